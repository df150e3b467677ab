// The frame of every page and the pieces pages share, as Mustache templates (swift-mustache). Embedded in the binary
// rather than loaded from resources: the `gateway` executable stays one file that needs no bundle beside it, nothing
// is read from disk at startup, and a template that does not parse fails the Gateway's unit tests, not a deployment.
//
// `{{name}}` escapes `& < > " '`; no template uses the unescaped `{{{name}}}` or `{{&name}}`, so everything a user
// wrote is shown as text (PageTemplatesTests checks that for every template).

extension PageTemplates {
    /// The document around every page: head, skip link, navigation, `main`, footer. Pages fill `main` (and
    /// `scripts`, with files only: the Content-Security-Policy allows no inline script).
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Tweeter</title>
        <link rel="stylesheet" href="/static/site.css">
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="site">
        <a class="brand" href="/">Tweeter</a>
        <nav aria-label="Main">
        <ul>
        {{#viewer}}
        <li><a href="/">Home</a></li>
        <li><a href="/@{{username}}">@{{username}}</a></li>
        <li><form method="post" action="/signout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="link">Sign out</button></form></li>
        {{/viewer}}
        {{^viewer}}
        <li><a href="/">Public timeline</a></li>
        <li><a href="/signin">Sign in</a></li>
        <li><a href="/signup">Sign up</a></li>
        {{/viewer}}
        </ul>
        </nav>
        </header>
        <main id="main" tabindex="-1">
        {{$main}}{{/main}}
        </main>
        <footer class="site"><p>Tweeter: every page works without JavaScript.</p></footer>
        {{#pollsNewTweets}}<script src="/static/new-tweets.js" defer></script>{{/pollsNewTweets}}
        </body>
        </html>

        """

    /// One tweet: author, time (relative, exact in `<time datetime>` and its title), reply context, text, actions.
    static let tweet = """
        <article class="tweet">
        <header>
        <a class="author" href="/@{{username}}">@{{username}}</a>
        <a class="when" href="/tweets/{{id}}"><time datetime="{{time.machine}}" title="{{time.exact}}">{{time.text}}</time></a>
        </header>
        {{#inReplyToID}}<p class="context"><a href="/tweets/{{inReplyToID}}">In reply to another tweet</a></p>{{/inReplyToID}}
        <p class="text">{{text}}</p>
        <div class="actions">
        <a href="/tweets/{{id}}">Reply<span class="visually-hidden"> to this tweet by @{{username}}</span></a>
        {{#isOwn}}<form method="post" action="/tweets/{{id}}/delete" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="return_to" value="{{returnPath}}"><button type="submit" class="link danger">Delete<span class="visually-hidden"> this tweet</span></button></form>{{/isOwn}}
        </div>
        </article>

        """

    /// A list of tweets and the "Older" link to the next page.
    static let tweetList = """
        {{#hasTweets}}<ol class="tweets">
        {{#tweets}}<li>{{>tweet}}</li>
        {{/tweets}}
        </ol>{{/hasTweets}}
        {{^hasTweets}}<p class="empty">No tweets here yet.</p>{{/hasTweets}}
        {{#olderMaxID}}<nav aria-label="More tweets" class="pager"><a rel="next" href="{{path}}?max_id={{olderMaxID}}">Older</a></nav>{{/olderMaxID}}

        """

    /// The compose box; a reply when `inReplyToID` is set.
    static let compose = """
        <form method="post" action="/tweets" class="compose" novalidate>
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#inReplyToID}}<input type="hidden" name="in_reply_to_id" value="{{inReplyToID}}">{{/inReplyToID}}
        <label for="text">{{#inReplyToID}}Your reply{{/inReplyToID}}{{^inReplyToID}}What is happening?{{/inReplyToID}}</label>
        <textarea id="text" name="text" rows="3" maxlength="280" required{{#text.error}} aria-invalid="true" aria-describedby="text-error"{{/text.error}}>{{text.value}}</textarea>
        {{#text.error}}<p class="field-error" id="text-error">{{text.error}}</p>{{/text.error}}
        <button type="submit">{{#inReplyToID}}Reply{{/inReplyToID}}{{^inReplyToID}}Tweet{{/inReplyToID}}</button>
        </form>

        """

    /// The fields of the sign-in and sign-up forms (which wrap them with their own `form` element and button).
    static let accountFields = """
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{#formError}}<p class="form-error" role="alert">{{formError}}</p>{{/formError}}
        <p class="field"><label for="{{idPrefix}}username">Username</label>
        <input id="{{idPrefix}}username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="15" required value="{{username.value}}"{{#username.error}} aria-invalid="true" aria-describedby="{{idPrefix}}username-error"{{/username.error}}>
        {{#username.error}}<span class="field-error" id="{{idPrefix}}username-error">{{username.error}}</span>{{/username.error}}</p>
        <p class="field"><label for="{{idPrefix}}password">Password</label>
        <input id="{{idPrefix}}password" name="password" type="password" autocomplete="{{passwordAutocomplete}}" minlength="8" maxlength="128" required{{#password.error}} aria-invalid="true" aria-describedby="{{idPrefix}}password-error"{{/password.error}}>
        {{#password.error}}<span class="field-error" id="{{idPrefix}}password-error">{{password.error}}</span>{{/password.error}}</p>

        """
}
