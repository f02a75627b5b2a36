// Placeholder start page until the web UI lands: static, no span data in it.

export const landingPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ariadne</title></head>
<body>
<h1>Ariadne</h1>
<p>Follow the thread of every request.</p>
<ul>
<li><a href="/api/v1/services">/api/v1/services</a> — services seen</li>
<li><a href="/api/v1/traces">/api/v1/traces</a> — recent traces (search parameters in the API docs)</li>
<li><a href="/api/openapi.json">/api/openapi.json</a> — API description</li>
<li><a href="/metrics">/metrics</a> — Prometheus self-metrics</li>
</ul>
</body></html>`;
