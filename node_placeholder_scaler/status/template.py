"""The status page's Jinja2 template (rendered with autoescape by status/page.py).

Plain HTML and inline SVG, one inline style sheet, no script: it works without JavaScript and
on a phone (viewport meta, one column that widens, tables that scroll sideways).
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="60">
<title>Warm node pools: status</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;
 background:#f6f7f9;line-height:1.4}
header,main{max-width:60rem;margin:0 auto;padding:0.75rem 1rem}
header{background:#1f3a5f;color:#fff;max-width:none}
header h1{font-size:1.25rem;margin:0}
header p{margin:0.2rem 0 0;font-size:0.9rem;opacity:0.9}
section{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:0.75rem 1rem;
 margin:0 0 1rem}
h2{font-size:1.15rem;margin:0 0 0.5rem}
h3{font-size:1rem;margin:0.9rem 0 0.4rem}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:0.9rem}
th,td{text-align:left;padding:0.3rem 0.5rem;border-bottom:1px solid #eceff2;vertical-align:top}
th{background:#f0f2f5;font-weight:600}
dl.warm{display:grid;grid-template-columns:repeat(auto-fill,minmax(8.5rem,1fr));gap:0.4rem;
 margin:0}
dl.warm div{background:#f0f4fa;border-radius:6px;padding:0.35rem 0.5rem}
dt{font-size:0.75rem;color:#55606e}
dd{margin:0;font-size:1.2rem;font-weight:600}
.problem{border-left:4px solid #c62828;background:#fdecea;padding:0.4rem 0.6rem;margin:0.4rem 0;
 border-radius:4px;overflow-wrap:anywhere}
.suggestion{font-weight:600;color:#1b5e20}
code{background:#eef0f3;padding:0 0.25rem;border-radius:3px}
.ok{color:#1b5e20;font-weight:600}.bad{color:#c62828;font-weight:600}
.note{color:#55606e;font-size:0.85rem}
.problem .note{margin-left:0.4rem}
svg.timeline{width:100%;height:auto;display:block;background:#fbfcfd}
.legend span{display:inline-block;width:0.8rem;height:0.8rem;vertical-align:middle;
 margin:0 0.25rem 0 0.6rem;border-radius:2px}
svg.timeline text{font-size:11px}
@media (max-width:40rem){header,main{padding:0.5rem}section{padding:0.6rem}
 svg.timeline{min-width:34rem}
 table.cards thead{display:none}
 table.cards tr{display:block;border-bottom:1px solid #dde1e6;padding:0.3rem 0}
 table.cards td{display:block;border:none;padding:0.1rem 0.25rem}
 table.cards td[data-label]::before{content:attr(data-label) ": ";font-weight:600;color:#55606e}}
</style>
</head>
<body>
<header>
<h1>Warm node pools: status</h1>
<p>As of {{ when(view.now) }} ({{ view.zone.key }}). Showing the next 7 days, until
{{ when(view.until) }}.{% if view.role %} This replica: {{ view.role }}.{% endif %}</p>
</header>
<main>
<section id="problems">
<h2>Problems to fix ({{ view.problems | length }})</h2>
{% for p in view.problems %}
<div class="problem">
<strong>{{ p.event or p.calendar or "configuration" }}</strong>
{% if p.start %}({{ when(p.start) }}){% endif %}
{% if p.calendar %}<span class="note">calendar {{ p.calendar }}</span>{% endif %}
<span class="note">[{{ p.kind }}]</span><br>
{{ p.message }}
{% if p.suggestion %}<br><span class="suggestion">suggested line: <code>{{ p.suggestion }}</code>
</span>{% endif %}
</div>
{% else %}
<p class="ok">No problems in the calendars now or in the coming days.</p>
{% endfor %}
</section>
{% for pool in view.pools %}
{% set c = charts[pool.name] %}
<section class="pool" id="pool-{{ pool.name }}">
<h2>Pool {{ pool.name }}</h2>
<h3>Warm now</h3>
{% if pool.warm %}
{% set w = pool.warm %}
<dl class="warm">
<div><dt>calendar target</dt><dd>{{ w.target | number }}</dd></div>
<div><dt>{{ "buffer" if w.backend == "capacityBuffer" else "placeholders" }} desired</dt>
<dd>{{ w.desired | number }}</dd></div>
<div><dt>{{ "buffer" if w.backend == "capacityBuffer" else "placeholders" }} ready</dt>
<dd>{{ w.ready | number }}{% if w.current is not none %} / {{ w.current }}{% endif %}</dd></div>
<div><dt>pending</dt><dd>{{ w.pending }}</dd></div>
<div><dt>pool nodes</dt><dd>{{ w.nodes | number }}</dd></div>
<div><dt>free node-equivalents</dt><dd>{{ w.free | number }}</dd></div>
</dl>
<p class="note">Last round: {{ w.action }}.</p>
{% if w.error %}<div class="problem">{{ w.error }}</div>{% endif %}
{% else %}
<p class="note">Not measured by this replica{% if view.role == "standby" %} (a standby: the
leader reconciles and measures){% endif %}.</p>
{% endif %}
<h3>Next 7 days</h3>
<div class="scroll">
<svg class="timeline" viewBox="0 0 720 150" role="img"
 aria-label="Requested nodes of pool {{ pool.name }} over the next 7 days">
<title>Requested nodes of pool {{ pool.name }} over the next 7 days</title>
{% for b in c.events %}<rect class="event" x="{{ b.x }}" y="{{ c.y_bottom }}"
 width="{{ b.width }}" height="4" fill="#1f3a5f"><title>{{ b.title }}</title></rect>
{% endfor %}
{% for t in c.days %}<line x1="{{ t.x }}" x2="{{ t.x }}" y1="{{ c.y_top }}"
 y2="{{ c.y_bottom }}" stroke="#d0d5db" stroke-dasharray="2 3"/>
<text x="{{ t.x + 3 }}" y="146" font-size="10" fill="#55606e">{{ t.label }}</text>
{% endfor %}
<path d="{{ c.area }}" fill="#90caf9" fill-opacity="0.45"/>
{% for b in c.leads %}<rect class="lead" x="{{ b.x }}" y="{{ c.y_top }}" width="{{ b.width }}"
 height="{{ c.y_bottom - c.y_top }}" fill="#ff9800" fill-opacity="0.6"><title>{{ b.title }}</title>
</rect>
{% endfor %}
<path class="requested" d="{{ c.line }}" fill="none" stroke="#1565c0" stroke-width="2"/>
<line x1="34" x2="712" y1="{{ c.y_bottom }}" y2="{{ c.y_bottom }}" stroke="#8a939e"/>
<text x="4" y="{{ c.y_top + 8 }}" font-size="10" fill="#55606e">{{ c.top }}</text>
<text x="4" y="{{ c.y_bottom }}" font-size="10" fill="#55606e">0</text>
<text x="{{ c.x_now + 3 }}" y="146" font-size="10" fill="#1b1f24">now</text>
</svg>
</div>
<p class="note legend"><span style="background:#90caf9"></span>requested nodes
<span style="background:#ffb74d"></span>lead (warming before the start)
<span style="background:#1f3a5f"></span>event</p>
<h3>Upcoming events ({{ pool.events | length }})</h3>
{% if pool.events %}
<div class="scroll"><table class="cards">
<thead><tr><th>Start</th><th>Event</th><th>Request</th><th>Lead</th><th>Problems</th>
</tr></thead>
<tbody>
{% for e in pool.events %}
<tr class="event-row"><td>{{ when(e.start) }}</td><td>{{ e.title }}
<div class="note">calendar {{ e.calendar }}, until {{ when(e.end) }}</div></td>
<td data-label="request">{{ e.request }}</td><td data-label="lead">{{ e.lead | minutes }}</td>
<td data-label="problems">{% for p in e.problems %}<div class="problem">{{ p.message }}
{% if p.suggestion %}
<br><span class="suggestion">suggested line: <code>{{ p.suggestion }}</code></span>
{% endif %}</div>{% else %}none{% endfor %}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p class="note">No event asks for this pool in the next 7 days.</p>
{% endif %}
<h3>Last event reports</h3>
{% if pool.reports %}
<div class="scroll"><table class="cards">
<thead><tr><th>Event</th><th>Arrivals</th><th>Waits p50 / p95 / max</th>
<th>Capacity ready in time</th><th>Advice</th></tr></thead>
<tbody>
{% for r in pool.reports %}
<tr><td>{{ r.title }}<div class="note">{{ when(r.start) }}</div></td>
<td data-label="arrivals">{{ r.arrivals }}</td>
<td data-label="waits p50 / p95 / max">{{ r.wait_p50 | seconds }} / {{ r.wait_p95 | seconds }}
 / {{ r.wait_max | seconds }}
<div class="note">{{ r.over_target }} over {{ r.target_s | seconds }}</div></td>
<td data-label="capacity ready in time">{% if r.ready_in_time %}<span class="ok">yes</span>
{% else %}<span class="bad">no</span>
{% endif %}<div class="note">{{ r.warm_at_start }} of {{ r.asked }} warm at the start</div></td>
<td data-label="advice">{{ r.advice }}</td></tr>
{% endfor %}
</tbody></table></div>
{% else %}
<p class="note">No event report yet.</p>
{% endif %}
</section>
{% endfor %}
<section id="calendars">
<h2>Calendars</h2>
<div class="scroll"><table>
<thead><tr><th>Calendar</th><th>State</th><th>Last fetch</th><th>Last good copy</th></tr></thead>
<tbody>
{% for f in view.feeds %}
<tr><td>{{ f.name }}</td><td>{% if f.ok %}<span class="ok">in use</span>{% else %}
<span class="bad">no usable copy</span>{% endif %}</td><td>{{ f.result }}</td>
<td>{{ when(f.last_success) }}</td></tr>
{% endfor %}
</tbody></table></div>
<p class="note">Read-only page, rebuilt every round; it reloads itself every minute.</p>
</section>
</main>
</body>
</html>
"""
