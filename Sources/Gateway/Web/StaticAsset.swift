import Hummingbird

/// A file the pages load (the style sheet and the one script), embedded in the binary like the templates.
///
/// Served with a type, `nosniff` (from ``SecurityHeaders``) and an hour of caching; the script is what the
/// Content-Security-Policy's `script-src 'self'` allows, since no page has an inline script.
struct StaticAsset: Sendable {
    let path: String
    let contentType: String
    let body: String

    static let all = [
        StaticAsset(path: "/static/site.css", contentType: "text/css; charset=utf-8", body: styleSheet),
        StaticAsset(
            path: "/static/new-tweets.js", contentType: "text/javascript; charset=utf-8", body: newTweetsScript),
    ]

    func response() -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "public, max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Progressive enhancement for home: every 15 s, asks whether newer tweets arrived and, if so, shows the
    /// "new tweets" link (a plain link to `/`). Without JavaScript the page is the same, less the notice.
    static let newTweetsScript = """
        "use strict";
        (function () {
          var notice = document.getElementById("new-tweets");
          var newest = document.querySelector("ol.tweets article a.when");
          if (!notice || !window.fetch) { return; }
          var sinceID = newest ? newest.getAttribute("href").split("/").pop() : "0";
          function poll() {
            fetch("/home/new-count?since_id=" + encodeURIComponent(sinceID), { credentials: "same-origin" })
              .then(function (response) { return response.ok ? response.json() : { count: 0 }; })
              .then(function (answer) {
                if (answer.count > 0) {
                  notice.querySelector("a").textContent =
                    answer.count + (answer.count === 1 ? " new tweet" : " new tweets") + ": show";
                  notice.hidden = false;
                } else {
                  window.setTimeout(poll, 15000);
                }
              })
              .catch(function () { window.setTimeout(poll, 15000); });
          }
          window.setTimeout(poll, 15000);
        })();

        """
}
