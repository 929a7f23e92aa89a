FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app

COPY . .
RUN pip install --no-cache-dir . \
    && pybabel compile --directory locale --domain django \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --create-home portal && mkdir -p var && chown portal var

USER portal
EXPOSE 8000
CMD ["gunicorn", "benefits_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
