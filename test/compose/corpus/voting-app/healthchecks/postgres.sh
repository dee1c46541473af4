#!/bin/sh
set -e
pg_isready -U postgres -h 127.0.0.1
