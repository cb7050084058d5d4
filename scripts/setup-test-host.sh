#!/usr/bin/env bash
# Make this Debian host able to run the whole test suite: the real programs that read what harborctl
# renders, and a running Docker engine. Idempotent; needs root. Never starts a second dockerd.
set -euo pipefail

packages=(docker.io docker-compose debootstrap busybox-static nginx-light rsyslog redis-server
          postgresql docker-registry logrotate openssl curl ca-certificates python3-venv e2fsprogs
          systemd)  # systemd-analyze verify checks the boot unit; nothing starts systemd here
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No systemd here: packages install their services but nothing starts them.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker version >/dev/null 2>&1; then
  if pgrep -x dockerd >/dev/null; then
    echo "setup: dockerd runs but does not answer yet; waiting"
  else
    echo "setup: starting dockerd"
    setsid dockerd >/var/log/harborctl-test-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 100); do docker version >/dev/null 2>&1 && break; sleep 0.3; done
  docker version >/dev/null 2>&1 || { echo "setup: dockerd did not come up; see /var/log/harborctl-test-dockerd.log" >&2; exit 1; }
fi

# Containers left by an earlier run come back with restart: always and hold their ports.
leftovers="$(docker ps -aq --filter label=harborctl.test=1)"
if [ -n "$leftovers" ]; then
  echo "setup: removing $(echo "$leftovers" | wc -l) leftover test container(s)"
  docker rm -f $leftovers >/dev/null
fi
# Harbor deployments made by the tests live in pytest's temporary folders: remove those too.
pytest_made="$(docker ps -a --format '{{.ID}} {{.Label "com.docker.compose.project.working_dir"}}' \
  | awk '$2 ~ "^/tmp/pytest-of-" {print $1}')"
if [ -n "$pytest_made" ]; then
  echo "setup: removing leftover test deployment container(s)"
  docker rm -f $pytest_made >/dev/null
fi
docker network prune -f --filter label=harborctl.test=1 >/dev/null
# A hosts entry left by an interrupted end-to-end run.
if grep -q '# harborctl-e2e' /etc/hosts; then
  # rewritten in place: /etc/hosts may be a mount point that cannot be renamed over
  grep -v '# harborctl-e2e' /etc/hosts > /tmp/hosts.harborctl || true
  cat /tmp/hosts.harborctl > /etc/hosts && rm -f /tmp/hosts.harborctl
fi
