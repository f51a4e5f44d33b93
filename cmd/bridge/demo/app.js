// Placeholder demo: a minimal live mail view on the bridge's wire protocol
// (docs/protocol.md). The SDK and the full demo replace it. Text only: no
// server data is ever written as HTML.
'use strict';
(async function () {
  const $ = (id) => document.getElementById(id);
  const setState = (text, live) => { $('state').textContent = text; $('state').className = 'state' + (live ? ' live' : ''); };
  const res = await fetch('/dev/token', { method: 'POST' });
  if (!res.ok) { setState('no token'); return; }
  const dev = await res.json();
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(proto + '//' + location.host + '/ws', ['imapbridge.v1', 'bearer.' + dev.token]);
  let next = 1;
  const pending = new Map();
  const call = (op, body) => new Promise((resolve, reject) => {
    const id = String(next++);
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify(Object.assign({ id, op }, body)));
  });
  let mailbox = 'INBOX';
  const el = (tag, text, cls) => { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; };
  const fmtFrom = (env) => (env && env.from && env.from[0]) ? (env.from[0].name || env.from[0].addr || '') : '';
  const row = (m, fresh) => {
    const li = el('li', undefined, ((m.flags || []).some((f) => f.toLowerCase() === '\\seen') ? '' : 'unseen') + (fresh ? ' new' : ''));
    li.dataset.uid = m.uid;
    li.append(el('span', fmtFrom(m.envelope)), el('span', (m.envelope && m.envelope.subject) || '(no subject)'),
      el('span', m.internalDate ? new Date(m.internalDate).toLocaleString() : ''));
    return li;
  };
  const showMailbox = async (name) => {
    mailbox = name;
    $('mailbox').textContent = name;
    const sel = await call('select', { mailbox: name });
    const list = $('messages');
    list.replaceChildren();
    if (sel.exists === 0) return;
    const from = Math.max(1, sel.exists - 49);
    const f = await call('fetch', { seqs: from + ':*', items: ['uid', 'flags', 'envelope', 'internaldate'] });
    f.messages.sort((a, b) => b.uid - a.uid).forEach((m) => list.append(row(m, false)));
  };
  const toast = (text) => { const t = $('toast'); t.textContent = text; t.hidden = false; setTimeout(() => { t.hidden = true; }, 4000); };
  let lastUid = 0;
  ws.onmessage = async (ev) => {
    const f = JSON.parse(ev.data);
    if (f.type === 'response' || f.type === 'error') {
      const p = pending.get(f.id); if (!p) return; pending.delete(f.id);
      if (f.type === 'error') p.reject(new Error(f.error.message)); else p.resolve(f.result || f);
      return;
    }
    if (f.type === 'event' && f.event === 'exists' && f.mailbox === mailbox) {
      const first = $('messages').firstChild;
      lastUid = first ? Number(first.dataset.uid) : 0;
      const n = await call('fetch', { uids: (lastUid + 1) + ':*', items: ['uid', 'flags', 'envelope', 'internaldate'] });
      n.messages.filter((m) => m.uid > lastUid).sort((a, b) => a.uid - b.uid).forEach((m) => {
        $('messages').prepend(row(m, true));
        toast('New mail: ' + ((m.envelope && m.envelope.subject) || '(no subject)'));
      });
    }
    if (f.type === 'event' && f.event === 'expunge') {
      const li = document.querySelector('li[data-uid="' + Number(f.uid) + '"]'); if (li) li.remove();
    }
  };
  ws.onclose = () => setState('disconnected — reload to reconnect', false);
  ws.onopen = async () => {
    setState('logging in…');
    await call('login', { password: dev.password });
    setState('live', true);
    const l = await call('list', { pattern: '*', specialUse: true, status: ['UNSEEN'] });
    const nav = $('folders');
    l.mailboxes.forEach((m) => {
      const a = el('a');
      a.append(el('span', m.name), el('span', m.status && m.status.unseen ? String(m.status.unseen) : ''));
      a.onclick = () => showMailbox(m.name);
      nav.append(a);
    });
    await showMailbox('INBOX');
  };
})();
