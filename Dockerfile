# marketbot: the scheduler in a container.
#   docker build -t marketbot .
#   docker run -v $PWD/feeds.yaml:/config/feeds.yaml -v marketbot-data:/data \
#              -e SLACK_BOT_TOKEN -e SEC_USER_AGENT marketbot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/marketbot.db \
    MARKETBOT_CONFIG=/config/feeds.yaml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install . && useradd --system --uid 10001 marketbot \
    && mkdir -p /data /config && chown marketbot /data
COPY feeds.yaml /config/feeds.yaml

USER marketbot
VOLUME ["/data"]
ENTRYPOINT ["marketbot"]
CMD ["run"]
