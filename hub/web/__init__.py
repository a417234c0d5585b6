"""Server-rendered pages for people: sales on a phone, finance at a desk, IT at the console.

How to add a page (see ``pages.py`` for the login and home page):

1. a template in ``hub/web/templates/`` that extends ``base.html`` (mobile-first CSS is in
   ``static/hub.css``; no JavaScript framework: pages must work on a phone and in a test);
2. a route on a ``APIRouter`` with ``user: PageUser = Depends(page_user(Role.x, ...))`` — no
   cookie sends the browser to the login page, a wrong role gets a 403 page — rendering with
   ``render(request, "name.html", user, **context)``; read data through the same services as the
   API (routers stay thin);
3. include the router in ``hub/web/app.py:mount_pages`` and add a link in ``NAV``.

People log in with an API token (``hub token create --role sales``); it is kept in an HttpOnly,
SameSite=Strict cookie, so the pages need no second account system and a revoked token locks
its pages at once.
"""
