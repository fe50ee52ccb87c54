# The production image: Charter against PostgreSQL and Redis (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY server ./server
COPY schema ./schema
COPY tenants ./tenants
COPY migrations ./migrations
RUN pip install . && useradd --system --home /app charter
USER charter

EXPOSE 8000
CMD ["charter", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
