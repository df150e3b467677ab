extension StaticAsset {
    /// The whole style: one column that reads at 375 px and centers at desktop widths, visible focus, large targets.
    static let styleSheet = """
        :root { --ink: #14171a; --muted: #536471; --line: #cfd9de; --accent: #1565c0; --danger: #b3261e;
          --bg: #ffffff; --card: #f7f9fa; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: var(--bg); line-height: 1.45; font-size: 1rem; }
        a { color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible {
          outline: 3px solid #ff9800; outline-offset: 2px; }
        .skip { position: absolute; left: -9999px; }
        .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 1; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
          white-space: nowrap; }
        header.site { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
          gap: .5rem; padding: .75rem 1rem; border-bottom: 1px solid var(--line); max-width: 42rem; margin: 0 auto; }
        .brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; }
        nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: 0; padding: 0;
          align-items: center; }
        main { display: block; max-width: 42rem; margin: 0 auto; padding: 1rem; }
        main:focus { outline: none; }
        footer.site { max-width: 42rem; margin: 0 auto; padding: 1rem; color: var(--muted); font-size: .875rem; }
        h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
        h2 { font-size: 1.125rem; margin: 1.25rem 0 .5rem; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem;
          margin-bottom: 1rem; }
        label { display: block; font-weight: 600; margin-bottom: .25rem; }
        input, textarea { width: 100%; font: inherit; padding: .5rem; border: 1px solid var(--muted);
          border-radius: .375rem; background: #fff; }
        textarea { resize: vertical; }
        [aria-invalid="true"] { border-color: var(--danger); border-width: 2px; }
        .field { margin: 0 0 .75rem; }
        .field-error, .form-error { display: block; color: var(--danger); font-weight: 600; margin: .25rem 0 0; }
        .form-error { margin-bottom: .75rem; }
        button { font: inherit; font-weight: 600; color: #fff; background: var(--accent); border: 0;
          border-radius: 999px; padding: .5rem 1.25rem; min-height: 2.5rem; cursor: pointer; margin-top: .5rem; }
        button.secondary { background: #fff; color: var(--ink); border: 1px solid var(--line); }
        button.link { background: none; color: var(--accent); padding: 0; min-height: 0; margin: 0;
          font-weight: 400; text-decoration: underline; border-radius: 0; }
        button.danger { color: var(--danger); }
        form.inline { display: inline; }
        ol.tweets, ul.people { list-style: none; margin: 0; padding: 0; }
        .tweet { border-bottom: 1px solid var(--line); padding: .75rem 0; }
        .tweet header { display: flex; gap: .5rem; align-items: baseline; }
        .author { font-weight: 700; text-decoration: none; }
        .when { color: var(--muted); font-size: .875rem; }
        .text { white-space: pre-wrap; overflow-wrap: anywhere; margin: .25rem 0 .5rem; }
        .context, .meta { color: var(--muted); font-size: .875rem; margin: .25rem 0; }
        .actions { display: flex; gap: 1rem; font-size: .875rem; }
        .counts { list-style: none; display: flex; flex-wrap: wrap; gap: 1rem; padding: 0; }
        ul.people li { padding: .5rem 0; border-bottom: 1px solid var(--line); }
        .parent { border-left: 3px solid var(--line); padding-left: .75rem; }
        .pager { padding: 1rem 0; }
        .pager a { font-weight: 600; }
        .notice { background: #e3f2fd; padding: .5rem 1rem; border-radius: .375rem; }
        .notice[hidden] { display: none; }
        .empty { color: var(--muted); }
        .find { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 0 .5rem; margin: 1rem 0; }
        .find label { flex-basis: 100%; }
        .find input { flex: 1 1 10rem; width: auto; }
        .whale { width: 100%; max-width: 20rem; height: auto; display: block; margin: 1rem auto; }

        """
}
