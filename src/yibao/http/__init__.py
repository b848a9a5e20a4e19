"""What the HTTP entry points share (接口公共部分): the app's engine, staff authentication and
institution authentication, as FastAPI dependencies.

The app (:mod:`yibao.api.app`) includes every capability's router, so a router cannot import the
app's package without closing an import cycle. Both import this package instead; it imports no
entry point (ADR 0017).
"""
