"""The HTTP edge: what every request and response passes through on its way in or out.

- `security_headers`: the one middleware that puts the security headers on every response
  (the page policy with only our own scripts, framing only for the widget, referrer, nosniff,
  HSTS over TLS).
- `downloads`: how a file leaves the app: its `Content-Disposition`, the type it is served as,
  and the sandbox that keeps a stored document from ever running as a page of our origin.
- `same_origin`: whether a browser request that changes something comes from our own pages.
- `upload_limits`: request bodies beyond their route's limit are refused before they are stored.

Plain HTTP only: nothing here knows the UI or the business rules (it imports neither `ui` nor
`services`); the routes and the app (`vrm_dashboard.py`) call it.
"""
