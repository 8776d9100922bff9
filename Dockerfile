# syntax=docker/dockerfile:1
# The web faces (web/): built with Node exactly as `make web` does (npm ci, then npm run
# build: codegen from graphql/*.graphql, then every face into web/dist/<face>/). Only the
# built files go on to the Python image; Node and node_modules stay behind.
FROM node:20-slim AS web
WORKDIR /src/web
ENV npm_config_update_notifier=false
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
# codegen reads the committed SDL at ../graphql.
COPY graphql /src/graphql
COPY web ./
RUN npm run --silent build

FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md ./
COPY mallnet ./mallnet
COPY federation ./federation
COPY settlement ./settlement
COPY hub ./hub
COPY shop_node ./shop_node
COPY graphql ./graphql
RUN pip install --no-cache-dir . && useradd --system --home /app mallnet
# The hub serves /app/ and /console/, each node /dashboard/, from here (mallnet/webapps.py:
# the installed package is not beside web/, so it is named with MALLNET_WEB_DIST).
COPY --from=web /src/web/dist /app/web/dist
ENV MALLNET_WEB_DIST=/app/web/dist
USER mallnet
EXPOSE 8000
CMD ["mallnet", "hub", "--host", "0.0.0.0"]
