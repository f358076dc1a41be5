#!/usr/bin/env bash
set -euo pipefail
export GITLAB_TOKEN="$CI_JOB_TOKEN"
curl -sf -H "Authorization: Bearer $DEPLOY_TOKEN" https://api.internal/deploy
curl -sf -u "deploy:${REGISTRY_PASSWORD}" https://registry.internal/v2/
git clone "https://oauth2:${GITLAB_TOKEN}@gitlab.com/shop/infra.git"
git clone git@github.com:shop/api.git
docker run -e POSTGRES_PASSWORD=postgres postgres:16
echo "sha256sum: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  artifact.tgz"
