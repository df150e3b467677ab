// The pages, each a child of `layout` that fills its `main` block with its ``Page/content``.

extension PageTemplates {
    /// `/`: the home timeline and the compose box when signed in; else the public timeline beside the sign-in and
    /// sign-up forms.
    static let home = """
        {{<layout}}{{$main}}{{#content}}
        <h1>{{heading}}</h1>
        {{#compose}}<section aria-labelledby="compose-heading" class="card">
        <h2 id="compose-heading" class="visually-hidden">Write a tweet</h2>
        {{>compose}}
        </section>
        <p id="new-tweets" class="notice" hidden><a href="/">New tweets are here: show them</a></p>
        {{/compose}}
        {{#signIn}}<section aria-labelledby="signin-heading" class="card">
        <h2 id="signin-heading">Sign in</h2>
        <form method="post" action="/signin" novalidate>{{>accountFields}}<button type="submit">Sign in</button></form>
        </section>{{/signIn}}
        {{#signUp}}<section aria-labelledby="signup-heading" class="card">
        <h2 id="signup-heading">New here? Sign up</h2>
        <form method="post" action="/signup" novalidate>{{>accountFields}}<button type="submit">Sign up</button></form>
        </section>{{/signUp}}
        <form method="get" action="/find" class="find" role="search">
        <label for="find-username">Find someone by username</label>
        <input id="find-username" name="username" autocapitalize="none" spellcheck="false" maxlength="16">
        <button type="submit" class="secondary">Find</button>
        </form>
        <section aria-labelledby="tweets-heading">
        <h2 id="tweets-heading">{{listHeading}}</h2>
        {{#list}}{{>tweetList}}{{/list}}
        </section>
        {{/content}}{{/main}}{{/layout}}

        """

    /// `/signin` and `/signup`: one form, its errors beside its fields.
    static let account = """
        {{<layout}}{{$main}}{{#content}}
        <h1>{{heading}}</h1>
        <form method="post" action="{{action}}" class="card" novalidate>
        {{#form}}{{>accountFields}}{{/form}}
        <button type="submit">{{heading}}</button>
        </form>
        <p>{{otherPrompt}} <a href="{{otherPath}}">{{otherLabel}}</a></p>
        {{/content}}{{/main}}{{/layout}}

        """

    /// `/@{username}`: the user, their counts, follow or unfollow, and their tweets.
    static let profile = """
        {{<layout}}{{$main}}{{#content}}
        {{#user}}
        <h1>@{{username}}</h1>
        <p class="meta">Joined <time datetime="{{joined.machine}}" title="{{joined.exact}}">{{joined.day}}</time></p>
        <ul class="counts">
        <li><strong>{{tweetsCount}}</strong> {{tweetsWord}}</li>
        <li><a href="/@{{username}}/followers"><strong>{{followersCount}}</strong> {{followersWord}}</a></li>
        <li><a href="/@{{username}}/following"><strong>{{followingCount}}</strong> following</a></li>
        </ul>
        {{/user}}
        {{#isFollowing}}<p class="meta">You follow @{{user.username}}.</p>{{/isFollowing}}
        {{#showFollow}}<form method="post" action="/@{{user.username}}/follow" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Follow<span class="visually-hidden"> @{{user.username}}</span></button></form>{{/showFollow}}
        {{#showUnfollow}}<form method="post" action="/@{{user.username}}/unfollow" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary">Unfollow<span class="visually-hidden"> @{{user.username}}</span></button></form>{{/showUnfollow}}
        <section aria-labelledby="tweets-heading">
        <h2 id="tweets-heading">Tweets</h2>
        {{#list}}{{>tweetList}}{{/list}}
        </section>
        {{/content}}{{/main}}{{/layout}}

        """

    /// `/@{username}/followers` and `/following`.
    static let people = """
        {{<layout}}{{$main}}{{#content}}
        <h1>{{heading}}</h1>
        <p><a href="/@{{user.username}}">Back to @{{user.username}}</a></p>
        {{#hasUsers}}<ul class="people">
        {{#users}}<li><a href="/@{{username}}">@{{username}}</a> <span class="meta">{{followersCount}} {{followersWord}}</span></li>
        {{/users}}
        </ul>{{/hasUsers}}
        {{^hasUsers}}<p class="empty">Nobody yet.</p>{{/hasUsers}}
        {{#nextCursor}}<nav aria-label="More people" class="pager"><a rel="next" href="{{path}}?cursor={{nextCursor}}">More</a></nav>{{/nextCursor}}
        {{/content}}{{/main}}{{/layout}}

        """

    /// `/tweets/{id}`: the tweet, the tweet it replies to, and the reply form.
    static let tweetPage = """
        {{<layout}}{{$main}}{{#content}}
        <h1>Tweet by @{{tweet.username}}</h1>
        {{#parent}}<section aria-labelledby="parent-heading" class="parent">
        <h2 id="parent-heading">In reply to</h2>
        {{>tweet}}
        </section>{{/parent}}
        {{#parentMissing}}<p class="meta">In reply to a tweet that is no longer there.</p>{{/parentMissing}}
        {{#tweet}}{{>tweet}}{{/tweet}}
        <section aria-labelledby="reply-heading" class="card">
        <h2 id="reply-heading">Reply</h2>
        {{#reply}}{{>compose}}{{/reply}}
        {{^reply}}<p><a href="/signin">Sign in</a> to reply.</p>{{/reply}}
        </section>
        {{/content}}{{/main}}{{/layout}}

        """

    /// Every error a person may meet: what happened, when to retry, and the way home. A whale when we are down.
    static let error = """
        {{<layout}}{{$main}}{{#content}}
        {{#whale}}<svg class="whale" viewBox="0 0 200 110" role="img" aria-label="A whale lifted by birds">
        <path d="M20 70 Q40 40 100 45 Q160 45 170 70 Q150 100 90 98 Q40 96 20 70 Z" fill="#4a7fb0"/>
        <path d="M170 70 L195 55 L188 75 L195 92 Z" fill="#4a7fb0"/>
        <circle cx="60" cy="65" r="3" fill="#fff"/>
        <path d="M60 45 L70 10 M100 45 L100 8 M140 47 L130 12" stroke="#777" stroke-width="1.5"/>
        <circle cx="70" cy="8" r="5" fill="#e0a030"/><circle cx="100" cy="6" r="5" fill="#e0a030"/><circle cx="130" cy="10" r="5" fill="#e0a030"/>
        </svg>{{/whale}}
        <h1>{{heading}}</h1>
        <p>{{message}}</p>
        {{#retryAfter}}<p>Please try again in <strong>{{retryAfter}}</strong>.</p>{{/retryAfter}}
        <p><a href="/">Go to the home page</a></p>
        {{/content}}{{/main}}{{/layout}}

        """
}
