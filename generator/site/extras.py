"""The pages every site has besides its content: ``404.html``, ``sitemap.xml`` and ``robots.txt``.

Written at the end of every build:

- ``404.html``: GitHub Pages (and most web servers) show it for a missing
  address at any depth, so relative links would break there. With
  ``--site-url`` its links start from that address; without it, the page is a
  plain message with no links to the site.
- ``sitemap.xml``: needs absolute addresses, so it is written only when
  ``--site-url`` is given (search engines ignore relative ones). Past 50,000
  pages it becomes an index of ``sitemap-N.xml`` files, the format's limit.
- ``robots.txt``: allows everything and names the sitemap when there is one.
  Crawlers read it only at the root of a domain, so on a GitHub Pages project
  site (``https://user.github.io/project/``) it has no effect.

"""

from __future__ import annotations

import base64
import hashlib
from xml.sax.saxutils import escape

from generator.fsutil import write_atomic
from generator.site.urls import page_address, site_base

SITEMAP_LIMIT = 50_000


def sitemap_files(base: str, pages: list[str], limit: int = SITEMAP_LIMIT) -> dict[str, str]:
    """File name -> XML text: one sitemap.xml, or an index and numbered parts when there are many pages."""
    urls = sorted({page_address(base, p) for p in pages})

    def urlset(chunk):
        body = "".join(f"  <url><loc>{escape(u)}</loc></url>\n" for u in chunk)
        return ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + body + "</urlset>\n")
    if len(urls) <= limit:
        return {"sitemap.xml": urlset(urls)}
    files, index = {}, []
    for n, start in enumerate(range(0, len(urls), limit), start=1):
        files[f"sitemap-{n}.xml"] = urlset(urls[start:start + limit])
        index.append(f"  <sitemap><loc>{escape(base + f'sitemap-{n}.xml')}</loc></sitemap>\n")
    files["sitemap.xml"] = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                            + "".join(index) + "</sitemapindex>\n")
    return files


#: The 404 page's only style, allowed by its hash in the page's Content-Security-Policy.
NOT_FOUND_STYLE = ("body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;"
                   "line-height:1.5;color:#1c1917;background:#fdfcf9}a{color:#9a3412}")


def write_site_extras(ctx, out) -> None:
    """Write 404.html, robots.txt and (with a site address) sitemap.xml into the site (``out``, a SiteOutput)."""
    settings = ctx.site.settings
    base = site_base(settings.site_url)
    style_hash = base64.b64encode(hashlib.sha256(NOT_FOUND_STYLE.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'self' 'sha256-{style_hash}'; img-src 'self' data:; "
           "base-uri 'none'; form-action 'none'")
    html = out.env.get_template("404.html").render(site_title=out.title, home=base, csp=csp,
                                                   style=NOT_FOUND_STYLE)
    write_atomic(out.root / "404.html", html)
    robots = "User-agent: *\nAllow: /\n"
    if base:
        for name, text in sitemap_files(base, out.pages).items():
            write_atomic(out.root / name, text)
        robots += f"Sitemap: {base}sitemap.xml\n"
    write_atomic(out.root / "robots.txt", robots)
