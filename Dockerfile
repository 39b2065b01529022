# One image for every Nuanxin process; docker-compose.yml picks the command.
FROM python:3.11-slim
WORKDIR /app
ENV PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore::Warning:nameko.cli.commands,ignore::Warning:nameko.containers,ignore::Warning:nameko.extensions
COPY pyproject.toml requirements.lock README.md ./
COPY shared ./shared
COPY services ./services
COPY config ./config
RUN pip install --no-cache-dir -c requirements.lock . \
    && useradd --system --uid 10001 nuanxin
USER nuanxin
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--worker-class", "gthread", "--threads", "8", \
     "--access-logfile", "-", "services.gateway.wsgi:app"]
