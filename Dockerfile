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
USER mallnet
EXPOSE 8000
CMD ["mallnet", "hub", "--host", "0.0.0.0"]
