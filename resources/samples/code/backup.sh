#!/bin/bash
# Nightly backup: archive the project folder and keep the last seven archives.
set -euo pipefail
SRC="/srv/projects"
DEST="/backup"
STAMP=$(date +%Y-%m-%d)
tar -czf "$DEST/projects-$STAMP.tar.gz" -C "$SRC" .
ls -1t "$DEST"/projects-*.tar.gz | tail -n +8 | xargs -r rm --
echo "backup written to $DEST/projects-$STAMP.tar.gz"
