#!/usr/bin/env bash
set -eo pipefail

BUILD_DIR="${BUILD_DIR}"
rm -rf $BUILD_DIR/*
