"""Every key harbor.cfg may hold, with the default used when the file leaves it out.

The first block is Harbor 1.7's own file (its shipped defaults); the second is what harborctl adds.
"""

from __future__ import annotations

HARBOR_17_DEFAULTS: dict[str, str] = {
    "_version": "1.7.0",
    "hostname": "reg.mydomain.com",
    "ui_url_protocol": "http",
    "max_job_workers": "10",
    "customize_crt": "on",
    "ssl_cert": "/data/cert/server.crt",
    "ssl_cert_key": "/data/cert/server.key",
    "secretkey_path": "/data",
    "admiral_url": "NA",
    "log_rotate_count": "50",
    "log_rotate_size": "200M",
    "http_proxy": "",
    "https_proxy": "",
    "no_proxy": "127.0.0.1,localhost,core,registry",
    "email_identity": "",
    "email_server": "smtp.mydomain.com",
    "email_server_port": "25",
    "email_username": "sample_admin@mydomain.com",
    "email_password": "abc",
    "email_from": "admin <sample_admin@mydomain.com>",
    "email_ssl": "false",
    "email_insecure": "false",
    "harbor_admin_password": "Harbor12345",
    "auth_mode": "db_auth",
    "ldap_url": "ldaps://ldap.mydomain.com",
    "ldap_searchdn": "",
    "ldap_search_pwd": "",
    "ldap_basedn": "ou=people,dc=mydomain,dc=com",
    "ldap_filter": "",
    "ldap_uid": "uid",
    "ldap_scope": "2",
    "ldap_timeout": "5",
    "ldap_verify_cert": "true",
    "ldap_group_basedn": "ou=group,dc=mydomain,dc=com",
    "ldap_group_filter": "objectclass=group",
    "ldap_group_gid": "cn",
    "ldap_group_scope": "2",
    "ldap_group_admin_dn": "",
    "self_registration": "on",
    "token_expiration": "30",
    "project_creation_restriction": "everyone",
    "db_host": "postgresql",
    "db_password": "root123",
    "db_port": "5432",
    "db_user": "postgres",
    "redis_host": "redis",
    "redis_port": "6379",
    "redis_password": "",
    "redis_db_index": "1,2,3",
    "clair_db_host": "postgresql",
    "clair_db_password": "root123",
    "clair_db_port": "5432",
    "clair_db_username": "postgres",
    "clair_db": "postgres",
    "clair_updaters_interval": "12",
    "uaa_endpoint": "uaa.mydomain.org",
    "uaa_clientid": "id",
    "uaa_clientsecret": "secret",
    "uaa_verify_cert": "true",
    "uaa_ca_cert": "/path/to/ca.pem",
    "registry_storage_provider_name": "filesystem",
    "registry_storage_provider_config": "",
    "registry_custom_ca_bundle": "",
    "reload_config": "true",
    "skip_reload_env_pattern": "",
}

HARBORCTL_DEFAULTS: dict[str, str] = {
    "http_port": "80",
    "https_port": "443",
    "data_volume": "/data",
    "log_location": "/var/log/harbor",
    "image_source": "goharbor",
    "harbor_release": "1.7.5",
    "with_notary": "false",
    "with_clair": "false",
    "with_chartmuseum": "false",
}

DEFAULTS: dict[str, str] = {**HARBOR_17_DEFAULTS, **HARBORCTL_DEFAULTS}

# Values never shown back to the operator (in messages, diffs or JSON).
SECRET_KEYS = frozenset(
    {
        "harbor_admin_password",
        "db_password",
        "redis_password",
        "email_password",
        "ldap_search_pwd",
        "uaa_clientsecret",
        "clair_db_password",
    }
)

SUPPORTED_RELEASES = ("1.7.5",)
