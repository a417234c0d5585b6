"""Server-rendered pages for people: sales on a phone, finance at a desk, IT at the console.

How to add a page (see ``pages.py`` for the login and home page):

1. a template in ``hub/web/templates/`` that extends ``base.html`` (mobile-first CSS is in
   ``static/hub.css``; no JavaScript framework: pages must work on a phone and in a test);
2. a route on a ``APIRouter`` with ``user: PageUser = Depends(page_user(Role.x, ...))`` — no
   cookie sends the browser to the login page, a wrong role gets a 403 page — rendering with
   ``render(request, "name.html", user, **context)``; read data through the same services as the
   API (routers stay thin);
3. include the router in ``hub/web/app.py:mount_pages`` and add a link in ``NAV``.

People log in with an API token (``hub token create --role sales``), which buys a page session
(``hub.auth.sessions``): the cookie (HttpOnly, SameSite=Strict) holds a random session id, not
the token, and logout, revoking the token or time end it server-side. So the pages need no
second account system and a revoked token locks its pages at once. A page's POST forms carry a
hidden ``csrf`` field (``{{ csrf }}``, filled in by ``render``): the guard refuses a post
without it. Keep templates free of inline script and style: the CSP (``security.py``) blocks them.
"""
