"""The addresses services use to reach each other, and the public one clients use."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from harborctl.config.model import Config


@dataclass(frozen=True)
class Urls:
    external: str
    token_realm: str
    core: str
    adminserver: str
    registry: str
    registryctl: str
    jobservice: str
    token_service: str
    clair: str
    notary: str
    chart_repository: str
    redis_registry: str  # redis://[:pw@]host:port/db
    redis_jobservice: str
    redis_core: str  # the "host:port,pool,password" form core's cache reads
    redis_addr: str  # host:port


def _redis_url(config: Config, db: int) -> str:
    password = config.redis.password
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{config.redis.host}:{config.redis.port}/{db}"


def urls_for(config: Config) -> Urls:
    external = config.address.external_url
    redis = config.redis
    return Urls(
        external=external,
        token_realm=f"{external}/service/token",
        core="http://core:8080",
        adminserver="http://adminserver:8080",
        registry="http://registry:5000",
        registryctl="http://registryctl:8080",
        jobservice="http://jobservice:8080",
        token_service="http://core:8080/service/token",
        clair="http://clair:6060",
        notary="http://notary-server:4443",
        chart_repository="http://chartmuseum:9999",
        redis_registry=_redis_url(config, redis.db_index.registry),
        redis_jobservice=_redis_url(config, redis.db_index.jobservice),
        redis_core=f"{redis.host}:{redis.port},100,{redis.password}",
        redis_addr=f"{redis.host}:{redis.port}",
    )
