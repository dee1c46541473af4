#!/bin/sh
set -e
[ "$(redis-cli -h 127.0.0.1 ping)" = PONG ]
