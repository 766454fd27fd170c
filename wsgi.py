"""gunicorn entry point: `gunicorn wsgi:app`."""
from collective import create_app

app = create_app()
