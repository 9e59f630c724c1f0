/** The console's two HTML documents: the page (the script builds everything) and the login form. */

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageFacts {
  csrf: string;
  sandbox: boolean;
  readOnly: boolean;
  /** Whether a logout makes sense (a token was asked). */
  session: boolean;
}

export function consolePage(facts: PageFacts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Handoff console</title>
<link rel="icon" href="data:,">
<meta name="console-csrf" content="${escapeHtml(facts.csrf)}">
<meta name="console-mode" content="${facts.sandbox ? 'sandbox' : 'production'}">
<meta name="console-read-only" content="${facts.readOnly}">
<meta name="console-session" content="${facts.session}">
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<div id="app"><noscript>The console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

export function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Handoff console: log in</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/console.css">
</head>
<body class="login">
<form method="post" action="/console/login" class="login-box">
<h1>Handoff console</h1>
<p>Enter the console token (<code>CONSOLE_TOKEN</code>) of this server.</p>
${problem ? `<p class="login-problem" role="alert">${escapeHtml(problem)}</p>` : ''}
<label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form>
</body>
</html>
`;
}
