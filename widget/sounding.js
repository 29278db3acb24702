/*! Sounding in-app NPS widget, v1. Served as-is: no framework, no build step. */
(function (w, d) {
  'use strict';
  // Nothing in here may throw into the host page: every entry point is wrapped.
  var noop = function () {};
  function safe(f) {
    return function () {
      try {
        f.apply(null, arguments);
      } catch (e) {
        /* never surface into the host page */
      }
    };
  }

  var CSS =
    ':host{all:initial!important}' +
    '*{box-sizing:border-box}' +
    '.w{--a:var(--sounding-accent,var(--s-accent,#2563eb));--at:var(--sounding-accent-text,var(--s-accent_text,#fff));' +
    '--bg:var(--sounding-bg,var(--s-background,#fff));--fg:var(--sounding-text,var(--s-text,#1f2937));' +
    '--bd:var(--sounding-border,var(--s-border,#d1d5db));--o:var(--sounding-offset,16px);--r:var(--sounding-radius,12px);' +
    'position:fixed;z-index:var(--sounding-z,2147483000);bottom:var(--o);right:var(--o);width:380px;' +
    'max-width:calc(100vw - 2*var(--o));max-height:calc(100vh - 2*var(--o));overflow:auto;padding:20px;' +
    'background:var(--bg);color:var(--fg);border:1px solid var(--bd);border-radius:var(--r);' +
    'box-shadow:0 8px 30px rgba(0,0,0,.18);text-align:left;' +
    'font:15px/1.4 var(--sounding-font,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif)}' +
    '.w:focus{outline:none}.w.l{right:auto;left:var(--o)}.w.t{bottom:auto;top:var(--o)}' +
    'button,input,textarea{font:inherit;color:inherit;margin:0}' +
    '.x{position:absolute;top:8px;right:8px;width:32px;height:32px;padding:0;border:0;border-radius:6px;' +
    'background:none;cursor:pointer;font-size:22px;line-height:1}' +
    'fieldset{border:0;margin:0;padding:0;min-width:0}' +
    'legend{padding:0 28px 12px 0;font-size:16px;font-weight:600}' +
    '.s{display:grid;grid-template-columns:repeat(11,1fr);gap:4px}' +
    '.s label{position:relative;display:block}' +
    '.s input{position:absolute;top:0;left:0;width:100%;height:100%;opacity:0;cursor:pointer}' +
    '.s span{display:block;padding:8px 0;text-align:center;border:1px solid var(--bd);border-radius:6px}' +
    '.s input:hover+span{border-color:var(--a)}' +
    '.s input:checked+span{background:var(--a);border-color:var(--a);color:var(--at)}' +
    '.s input:focus+span,button:focus,textarea:focus,.t:focus{outline:2px solid var(--a);outline-offset:2px}' +
    '.s input:focus:not(:focus-visible)+span,button:focus:not(:focus-visible),.t:focus:not(:focus-visible){outline:none}' +
    '.e{display:flex;justify-content:space-between;gap:8px;margin-top:6px;font-size:12px;opacity:.8}' +
    '.f{margin-top:16px}.f label{display:block;margin-bottom:6px;font-weight:600}' +
    'textarea{display:block;width:100%;min-height:72px;padding:8px;resize:vertical;background:var(--bg);' +
    'border:1px solid var(--bd);border-radius:6px}' +
    '.b{display:flex;justify-content:flex-end;gap:8px;margin-top:10px}' +
    '.b button{padding:8px 16px;border:1px solid var(--a);border-radius:6px;background:none;cursor:pointer}' +
    '.b [type=submit]{background:var(--a);color:var(--at)}' +
    '.t{margin:0;padding-right:28px;font-weight:600}[hidden]{display:none!important}' +
    '@media(max-width:480px){.w[class]{left:0;right:0;bottom:0;top:auto;width:auto;max-width:none;' +
    'border-width:1px 0 0;border-radius:var(--r) var(--r) 0 0;padding-bottom:calc(20px + env(safe-area-inset-bottom))}}' +
    '@media(forced-colors:active){.s input:checked+span{border:3px solid Highlight}}' +
    '@media(prefers-reduced-motion:no-preference){.w{animation:sounding-in .2s ease-out}}' +
    '@keyframes sounding-in{from{opacity:0;transform:translateY(8px)}}';

  var HTML =
    '<div class="w" role="dialog" aria-modal="false" aria-labelledby="q" tabindex="-1">' +
    '<button type="button" class="x"><span aria-hidden="true">&times;</span></button>' +
    '<form novalidate><fieldset><legend id="q"></legend><div class="s"></div>' +
    '<div class="e"><span id="lo"></span><span id="hi"></span></div></fieldset>' +
    '<div class="f" hidden><label for="c" id="fl"></label><textarea id="c" rows="3" maxlength="5000"></textarea>' +
    '<div class="b"><button type="button" class="k"></button><button type="submit"></button></div></div></form>' +
    '<p class="t" role="status" tabindex="-1"></p></div>';

  var POSITIONS = { 'bottom-right': '', 'bottom-left': 'l', 'top-right': 't', 'top-left': 't l' };
  var THEME = /^(#[0-9a-f]{3,8}|[a-z]+|(rgb|hsl)a?\([\d\s.,%/]+\))$/i;
  var TRAITS = ['email', 'name', 'role', 'account', 'properties', 'signedUpAt'];

  var old = w.Sounding;
  if (old && old.version) return; // loaded twice: keep the first
  try {
    var me = d.currentScript || d.querySelector('script[data-key][src*="sounding"]');
    function data(n) {
      return (me && me.getAttribute('data-' + n)) || null;
    }
    function apiBase(src) {
      try {
        var u = new URL(src, location.href);
        var m = u.pathname.match(/^(.*)\/widget\/v1\/[^/]*$/);
        return u.origin + (m ? m[1] : '');
      } catch (e) {
        return null;
      }
    }
    var cfg = { key: data('key'), api: data('api') || (me && apiBase(me.src)), position: data('position'), theme: {} };

    var user = null; // {userId, signature}
    var gen = 0; // bumped by identify/reset: late answers for an old user are ignored
    var ui = null; // the survey on screen

    function post(path, body, keepalive) {
      if (!cfg.key || !cfg.api || !w.fetch) return Promise.reject(new Error('sounding: not configured'));
      var ctl = w.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () {
        if (ctl) ctl.abort();
      }, 15000);
      var done = function () {
        clearTimeout(timer);
      };
      body.key = cfg.key;
      return fetch(String(cfg.api).replace(/\/+$/, '') + '/widget/v1/' + path, {
        method: 'POST',
        mode: 'cors',
        credentials: 'omit',
        cache: 'no-store',
        keepalive: !!keepalive,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: ctl ? ctl.signal : undefined,
      }).then(
        function (r) {
          done();
          return r;
        },
        function (e) {
          done();
          throw e;
        }
      );
    }

    function surveyOf(r) {
      return r.ok ? r.json().then(function (b) { return b && b.survey; }) : null;
    }

    function uuid() {
      try {
        return crypto.randomUUID();
      } catch (e) {
        /* not a secure context, or an old browser */
      }
      var b = new Uint8Array(16), h = '', i;
      try {
        crypto.getRandomValues(b);
      } catch (e) {
        for (i = 0; i < 16; i++) b[i] = Math.random() * 256;
      }
      b[6] = (b[6] & 15) | 64;
      b[8] = (b[8] & 63) | 128;
      for (i = 0; i < 16; i++) h += (b[i] + 256).toString(16).slice(1) + (i == 3 || i == 5 || i == 7 || i == 9 ? '-' : '');
      return h;
    }

    function sleep(ms) {
      return new Promise(function (res) { setTimeout(res, ms); });
    }

    // One answer: the latest state wins, one request in flight at a time, same response_id on every try.
    function save(r) {
      var k = r.score + '|' + r.comment;
      if (k === r.k) return;
      r.k = k;
      r.dirty = 1;
      pump(r).catch(noop);
    }
    async function pump(r) {
      if (r.busy) return;
      r.busy = 1;
      for (var n = 0; r.dirty && n < 6; ) {
        r.dirty = 0;
        try {
          var res = await post('responses', {
            userId: r.userId, signature: r.signature, display_id: r.display_id,
            response_id: r.id, score: r.score, comment: r.comment,
          }, 1);
          if (res.status < 500 && res.status != 429) {
            n = 0; // recorded (or refused for good): send again only if the state changed meanwhile
            continue;
          }
        } catch (e) {
          /* network error or timeout: retry below */
        }
        r.dirty = 1;
        await sleep(500 * Math.pow(2, n++));
      }
      r.busy = 0;
    }

    function category(n) {
      return n >= 9 ? 'promoter' : n >= 7 ? 'passive' : 'detractor';
    }

    function usable(s) {
      var t = s && s.strings;
      return !!(t && typeof s.display_id == 'string' && typeof s.question == 'string' && s.question &&
        typeof t.submit == 'string' && typeof t.close == 'string' && typeof t.thanks == 'string');
    }

    function show(s) {
      if (ui || !user || !usable(s) || !d.body) return;
      var t = s.strings, fu = s.follow_up || {}, theme = s.theme || {};
      var host = d.createElement('sounding-widget');
      var root = host.attachShadow({ mode: 'open' });
      root.innerHTML = '<style>' + CSS + '</style>' + HTML;
      var $ = function (q) { return root.querySelector(q); };
      var box = $('.w'), form = $('form'), scale = $('.s'), more = $('.f'), ta = $('textarea');
      var skip = $('.k'), thanks = $('.t'), x = $('.x');
      var r = { id: uuid(), userId: user.userId, signature: user.signature, display_id: s.display_id, score: null, comment: null };
      var cur = (ui = { host: host, r: r, back: null, timer: 0 });

      Object.keys(cfg.theme).forEach(function (k) {
        host.style.setProperty('--sounding-' + k, String(cfg.theme[k]));
      });
      var pos = POSITIONS[cfg.position] != null ? cfg.position : s.position;
      if (POSITIONS[pos]) box.className += ' ' + POSITIONS[pos];
      Object.keys(theme).forEach(function (k) {
        if (/^[a-z_]+$/.test(k) && THEME.test(theme[k])) box.style.setProperty('--s-' + k, theme[k]);
      });
      $('legend').textContent = s.question;
      $('#lo').textContent = t.low_label || '';
      $('#hi').textContent = t.high_label || '';
      x.setAttribute('aria-label', t.close);
      $('[type=submit]').textContent = t.submit;
      if (t.skip) skip.textContent = t.skip;
      else skip.hidden = true;
      if (t.comment_label) ta.placeholder = t.comment_label;
      for (var n = 0; n <= 10; n++) {
        var lab = d.createElement('label');
        lab.innerHTML = '<input type="radio" name="s" value="' + n + '"><span aria-hidden="true">' + n + '</span>';
        lab.firstChild.setAttribute('aria-label', String(t.score_label || '{n}').replace('{n}', n));
        if (n == 0 && t.low_label) lab.firstChild.setAttribute('aria-describedby', 'lo');
        if (n == 10 && t.high_label) lab.firstChild.setAttribute('aria-describedby', 'hi');
        scale.appendChild(lab);
      }

      function picked() {
        var c = root.querySelector('input:checked');
        return c ? +c.value : null;
      }
      // A checked radio previews the follow-up; arrow keys only select.
      function preview() {
        var v = picked();
        if (v == null) return;
        $('#fl').textContent = fu[category(v)] || t.comment_label || '';
        more.hidden = false;
      }
      // The score is chosen by a click or tap, Space or Enter, or moving on to the comment:
      // it is posted at once, so it is never lost.
      function choose(focus) {
        var v = picked();
        if (v == null || cur !== ui) return;
        preview();
        r.score = v;
        save(r);
        if (focus) ta.focus();
      }
      function done() {
        choose();
        if (r.score == null) return;
        r.comment = ta.value.trim() || null;
        save(r);
        var inside = root.activeElement;
        form.hidden = true;
        thanks.textContent = t.thanks;
        if (inside) thanks.focus();
        cur.timer = setTimeout(safe(close), 6000);
      }
      function close() {
        if (cur !== ui) return;
        if (r.score == null) post('dismissals', { userId: r.userId, signature: r.signature, display_id: r.display_id }, 1).catch(noop);
        remove();
      }

      box.addEventListener('keydown', safe(function (e) {
        e.stopPropagation(); // keys typed here are not the host's shortcuts
        if (e.key == 'Escape') {
          e.preventDefault();
          close();
        } else if ((e.key == ' ' || e.key == 'Enter') && e.target.name == 's') {
          e.preventDefault();
          e.target.checked = true;
          choose(1);
        }
      }));
      box.addEventListener('keyup', function (e) { e.stopPropagation(); });
      box.addEventListener('keypress', function (e) { e.stopPropagation(); });
      box.addEventListener('focusin', safe(function (e) {
        var from = e.relatedTarget;
        if (from && !root.contains(from)) cur.back = from;
      }));
      form.addEventListener('change', safe(preview));
      form.addEventListener('click', safe(function (e) {
        if (e.target.name == 's' && e.detail) choose(); // a pointer, not an arrow key
      }));
      more.addEventListener('focusin', safe(function () { choose(); }));
      form.addEventListener('submit', safe(function (e) {
        e.preventDefault();
        done();
      }));
      skip.addEventListener('click', safe(function () {
        ta.value = '';
        done();
      }));
      x.addEventListener('click', safe(close));

      d.body.appendChild(host);
      var a = d.activeElement;
      if (!a || a == d.body || a == d.documentElement) box.focus({ preventScroll: true });
    }

    function remove() {
      var u = ui;
      if (!u) return;
      ui = null;
      clearTimeout(u.timer);
      var hadFocus = u.host.shadowRoot.activeElement;
      u.host.remove();
      if (hadFocus && u.back && u.back.isConnected && u.back.focus) u.back.focus({ preventScroll: true });
    }

    function showFrom(g) {
      return function (s) {
        if (g === gen) show(s);
      };
    }

    var api = {
      version: '1',
      configure: safe(function (o) {
        o = o || {};
        if (o.key) cfg.key = String(o.key);
        if (o.api) cfg.api = String(o.api);
        if (o.position) cfg.position = String(o.position);
        if (o.theme) cfg.theme = o.theme;
      }),
      identify: safe(function (u) {
        if (!u || u.userId == null || u.userId === '') return;
        var id = String(u.userId);
        if (user && user.userId === id) return; // same user: one check per page load
        api.reset();
        user = { userId: id, signature: u.signature };
        var who = { userId: id };
        TRAITS.forEach(function (k) {
          if (u[k] != null) who[k] = u[k];
        });
        post('check', { user: who, signature: u.signature }).then(surveyOf).then(showFrom(gen)).catch(noop);
      }),
      track: safe(function (name) {
        if (!user || !name) return;
        post('events', { userId: user.userId, signature: user.signature, name: String(name) }, 1)
          .then(surveyOf).then(showFrom(gen)).catch(noop);
      }),
      reset: safe(function () {
        gen++;
        user = null;
        remove();
      }),
    };

    w.Sounding = api;
    // Replay the calls the stub queued before this script arrived.
    var q = (old && old.q) || [];
    for (var i = 0; i < q.length; i++) {
      try {
        var f = api[q[i][0]];
        if (f) f.apply(null, [].slice.call(q[i][1] || []));
      } catch (e) {
        /* a bad queued call must not stop the others */
      }
    }
  } catch (e) {
    /* a broken environment leaves the host page alone */
  }
})(window, document);
