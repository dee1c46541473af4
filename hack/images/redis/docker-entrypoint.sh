#!/bin/bash
# Entrypoint of berth-redis:dev, written for berth with the official redis
# image's contract: `redis-server` (the default command, or given flags or a
# *.conf first) runs in the foreground as the redis user in /data, on every
# interface (6379). Debian builds Redis with protected mode on, which refuses
# every remote client when no password is set; the official image builds it
# off, so it is turned off here unless a config file or a flag says otherwise.
set -Eeuo pipefail

if [ "${1:0:1}" = - ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi
if [ "$1" != redis-server ]; then
  exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$BASH_SOURCE" "$@"
fi

conf=0
[ $# -ge 2 ] && [ "${2:0:1}" != - ] && conf=1
if [ "$conf" = 0 ] && [[ " $* " != *" --protected-mode "* ]]; then
  set -- "$@" --protected-mode no
fi
# Like the official image: a dump or AOF is for the redis user only.
[ "$(umask)" = 0022 ] && umask 0077
exec "$@"
