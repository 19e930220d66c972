"""The framework's ceiling: a bare Flask app returning a small fixed page, served by the same gunicorn
settings as the real app."""
from flask import Flask

app = Flask(__name__)
PAGE = "<!doctype html><html lang=id><head><meta charset=utf-8><title>Bare</title></head><body>" + \
       "<main><h1>Pasar Koperasi</h1>" + "<p>Keripik pisang kepok renyah.</p>" * 40 + "</main></body></html>"


@app.get("/")
def index():
    return PAGE
