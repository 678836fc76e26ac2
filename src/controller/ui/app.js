// The topology page of dove-controller (docs/topology-page.md): read-only, no dependencies.
//
// It reads the REST API with the controller's bearer token (asked once, kept in sessionStorage)
// and follows GET /v1/events (server-sent events read with fetch, since EventSource cannot send
// an Authorization header): on "hello" it reads every collection, then applies each "change"
// (an object put or deleted, with its revision) and "stats" (the switches' counters) as they
// come, and redraws. A lost stream is opened again after a pause, and everything read again.
'use strict';

const KINDS = ['domains', 'networks', 'subnets', 'endpoints', 'switches', 'policies'];
const TOKEN_KEY = 'dove-token';
const PALETTE = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d',
  '#dc2626', '#4f46e5', '#0d9488'];
const PROTOCOLS = {1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6'};
const ENDPOINTS_SHOWN = 200;  // per switch; the rest are counted

const state = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  model: Object.fromEntries(KINDS.map((kind) => [kind, new Map()])),
  stats: new Map(),  // switch name -> {counter: value}
  revision: 0,
  stream: null,      // the AbortController of the open stream
  retry: 1000,
  drawPending: false,
};

// ---- DOM helpers ---------------------------------------------------------------------------

// h('div', {class: 'x', dataset: {a: 1}}, child, 'text', [more]): an element; text is text.
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'text') element.textContent = value;
    else if (name === 'style') {
      // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
      for (const rule of String(value).split(';')) {
        const colon = rule.indexOf(':');
        if (colon > 0) element.style.setProperty(rule.slice(0, colon).trim(), rule.slice(colon + 1).trim());
      }
    }
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const $ = (id) => document.getElementById(id);

// Each network its own colour, in the order the domains and networks are listed (a hash would
// give two networks of ten the same colour too often).
let colors = new Map();
function assignColors() {
  const domainName = (id) => (state.model.domains.get(id) || {name: id}).name;
  const networks = [...state.model.networks.values()].sort((a, b) =>
    domainName(a.domain_id).localeCompare(domainName(b.domain_id)) || byName(a, b));
  colors = new Map(networks.map((network, i) => [network.id, PALETTE[i % PALETTE.length]]));
}

function colorOf(networkId) {
  return colors.get(networkId) || '#9ca3af';
}

function shortId(id) {
  return id.length > 12 ? id.slice(0, 8) + '…' : id;
}

function byName(a, b) {
  return (a.name || a.id).localeCompare(b.name || b.id, undefined, {numeric: true});
}

function formatCount(value) {
  return Number(value).toLocaleString('en-US');
}

function ago(timestamp) {
  if (!timestamp) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(timestamp)) / 1000));
  if (Number.isNaN(seconds)) return timestamp;
  if (seconds < 60) return seconds + ' s ago';
  if (seconds < 3600) return Math.round(seconds / 60) + ' min ago';
  return Math.round(seconds / 3600) + ' h ago';
}

// ---- the API -------------------------------------------------------------------------------

class Unauthorized extends Error {}

function headers() {
  return state.token ? {Authorization: 'Bearer ' + state.token} : {};
}

async function get(path) {
  const response = await fetch(path, {headers: headers(), cache: 'no-store'});
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
  return response.json();
}

async function readAll() {
  const lists = await Promise.all(KINDS.map((kind) => get('/v1/' + kind)));
  KINDS.forEach((kind, i) => {
    state.model[kind] = new Map(lists[i].items.map((item) => [item.id, item]));
  });
  const stats = await get('/v1/switch-stats');
  state.stats = new Map(stats.items.map((item) => [item.switch_name, item.counters]));
}

function applyChange(change) {
  const objects = state.model[change.kind];
  if (!objects) return;
  if (change.op === 'delete') objects.delete(change.id);
  else objects.set(change.id, change.object);
  state.revision = Math.max(state.revision, change.revision);
}

function applyStats(stats) {
  for (const item of stats.items) state.stats.set(item.switch_name, item.counters);
  for (const name of stats.removed) state.stats.delete(name);
}

// Reads GET /v1/events until it ends. Changes that arrive while the collections are read are
// held and applied after them, in order (applying one twice gives the same result).
async function follow() {
  const abort = new AbortController();
  state.stream = abort;
  const response = await fetch('/v1/events', {headers: headers(), signal: abort.signal,
    cache: 'no-store'});
  if (response.status === 401) throw new Unauthorized();
  if (!response.ok || !response.body) throw new Error('/v1/events: HTTP ' + response.status);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let held = null;  // changes waiting for readAll, or null once it is done
  const onEvent = async (name, data) => {
    if (name === 'hello' || name === 'resync') {
      held = [];
      state.revision = data.revision;
      await readAll();
      for (const [heldName, heldData] of held) {
        if (heldName === 'change') applyChange(heldData);
        else if (heldName === 'stats') applyStats(heldData);
      }
      held = null;
      setLive('live');
      state.retry = 1000;
    } else if (held) {
      held.push([name, data]);
      return;
    } else if (name === 'change') {
      applyChange(data);
    } else if (name === 'stats') {
      applyStats(data);
    }
    scheduleDraw();
  };
  while (true) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length === 0) continue;  // a comment (keepalive)
      // Not awaited for changes: a readAll in progress holds them (see above).
      const handled = onEvent(name, JSON.parse(data.join('\n')));
      if (name === 'hello' || name === 'resync') handled.catch(failed);
    }
  }
}

function failed(error) {
  if (error instanceof Unauthorized) {
    if (state.stream) state.stream.abort();
    showLogin(state.token ? 'The controller refused this token.' : '');
    return;
  }
  if (error && error.name === 'AbortError') return;
  // A failed read after hello would leave the stream held forever: start over instead.
  if (state.stream) state.stream.abort();
  setLive('reconnecting', String(error && error.message || error));
}

async function connect() {
  while (true) {
    try {
      await follow();
      setLive('reconnecting', 'the event stream ended');
    } catch (error) {
      failed(error);
      if (error instanceof Unauthorized) return;
    }
    await new Promise((resolve) => setTimeout(resolve, state.retry));
    state.retry = Math.min(state.retry * 2, 8000);
  }
}

// ---- login ---------------------------------------------------------------------------------

function showLogin(message) {
  $('main').hidden = true;
  $('login').hidden = false;
  $('forget').hidden = true;
  $('login-error').textContent = message || '';
  setLive('offline');
  $('token').focus();
}

async function start() {
  $('login').hidden = true;
  $('main').hidden = false;
  $('forget').hidden = !state.token;
  setLive('connecting');
  connect();
}

$('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  state.token = $('token').value.trim();
  $('token').value = '';
  try {
    await get('/v1/domains');
  } catch (error) {
    showLogin(error instanceof Unauthorized ? 'The controller refused this token.'
      : 'Cannot reach the controller: ' + error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, state.token);
  start();
});

$('forget').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = '';
  if (state.stream) state.stream.abort();
  location.reload();
});

function setLive(status, why) {
  const pill = $('live');
  pill.dataset.state = status;
  pill.className = 'pill pill-' + status;
  pill.textContent = status;
  pill.title = why || '';
  const banner = $('banner');
  banner.hidden = status !== 'reconnecting';
  banner.textContent = status === 'reconnecting'
    ? 'Lost the controller (' + (why || 'no answer') + '); trying again. What is shown may be stale.'
    : '';
}

// ---- drawing -------------------------------------------------------------------------------

function scheduleDraw() {
  if (state.drawPending) return;
  state.drawPending = true;
  requestAnimationFrame(() => {
    state.drawPending = false;
    draw();
  });
}

function sorted(kind, filter) {
  return [...state.model[kind].values()].filter(filter || (() => true)).sort(byName);
}

function networkLabel(id) {
  const network = state.model.networks.get(id);
  return network ? network.name : shortId(id);
}

function policyRow(policy) {
  const action = (policy.action || '').replace('ACTION_', '').toLowerCase();
  let traffic = policy.protocol ? (PROTOCOLS[policy.protocol] || 'proto ' + policy.protocol) : 'any';
  const range = policy.port_range;
  if (range && range.first) {
    traffic += '/' + (range.first === range.last ? range.first : range.first + '-' + range.last);
  }
  return h('li', {class: 'policy', dataset: {policy: policy.id, action}},
    h('span', {class: 'net-tag', style: '--net:' + colorOf(policy.source_network_id)},
      networkLabel(policy.source_network_id)),
    h('span', {class: 'arrow', 'aria-label': 'to'}, '→'),
    h('span', {class: 'net-tag', style: '--net:' + colorOf(policy.destination_network_id)},
      networkLabel(policy.destination_network_id)),
    h('span', {class: 'badge badge-' + action}, action),
    h('span', {class: 'mono'}, traffic),
    h('span', {class: 'muted'}, 'priority ' + (policy.priority || 0)));
}

function domainCard(domain) {
  const networks = sorted('networks', (n) => n.domain_id === domain.id);
  const policies = [...state.model.policies.values()].filter((p) => p.domain_id === domain.id)
    .sort((a, b) => (b.priority || 0) - (a.priority || 0) || a.id.localeCompare(b.id));
  const endpointsOf = (network) =>
    [...state.model.endpoints.values()].filter((e) => e.network_id === network.id).length;
  const rows = networks.map((network) => {
    const subnets = sorted('subnets', (s) => s.network_id === network.id);
    return h('tr', {dataset: {network: network.id, vni: network.vni, name: network.name}},
      h('td', {}, h('span', {class: 'dot', style: '--net:' + colorOf(network.id)}),
        h('strong', {}, network.name)),
      h('td', {class: 'mono num', dataset: {field: 'vni'}}, network.vni),
      h('td', {}, subnets.length === 0 ? h('span', {class: 'muted'}, 'none') :
        subnets.map((subnet) => h('div', {class: 'mono', dataset: {subnet: subnet.id}},
          subnet.cidr, subnet.gateway ? h('span', {class: 'muted'}, ' gw ' + subnet.gateway) : '',
          subnet.mtu ? h('span', {class: 'muted'}, ' mtu ' + subnet.mtu) : ''))),
      h('td', {class: 'num'}, endpointsOf(network)));
  });
  return h('article', {class: 'card domain', dataset: {domain: domain.id, name: domain.name}},
    h('header', {class: 'card-head'}, h('h3', {}, domain.name),
      h('span', {class: 'muted mono', title: 'domain id'}, shortId(domain.id))),
    networks.length === 0 ? h('p', {class: 'muted'}, 'No networks.') :
      h('table', {class: 'grid'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Network'), h('th', {class: 'num'}, 'VNI'),
          h('th', {}, 'Subnets'), h('th', {class: 'num'}, 'Endpoints'))),
        h('tbody', {}, rows)),
    h('h4', {}, 'Policies'),
    policies.length === 0
      ? h('p', {class: 'muted small'}, 'None: traffic between networks is denied.')
      : h('ul', {class: 'policies'}, policies.map(policyRow)));
}

// An endpoint's labels for its tooltip: "\nkey=value" each, in key order.
function labelsText(endpoint) {
  return Object.keys(endpoint.labels || {}).sort()
    .map((key) => '\n' + key + '=' + endpoint.labels[key]).join('');
}

function endpointRow(endpoint) {
  const network = state.model.networks.get(endpoint.network_id);
  return h('li', {class: 'endpoint', dataset: {endpoint: endpoint.id, network: endpoint.network_id}},
    h('span', {class: 'dot', style: '--net:' + colorOf(endpoint.network_id),
      title: network ? network.name : endpoint.network_id}),
    h('div', {class: 'endpoint-body'},
      h('div', {class: 'endpoint-line'},
        endpoint.name
          ? h('span', {class: 'strong', title: endpoint.id + labelsText(endpoint)}, endpoint.name)
          : h('span', {class: 'mono strong', title: endpoint.id + labelsText(endpoint)},
            shortId(endpoint.id)),
        h('span', {class: 'muted'}, network ? network.name : '?'),
        endpoint.port_name ? h('span', {class: 'port mono', title: 'port'}, endpoint.port_name)
          : h('span', {class: 'muted small'}, 'no port')),
      h('div', {class: 'endpoint-line mono small'},
        h('span', {}, endpoint.mac),
        (endpoint.ips || []).map((ip) => h('span', {class: 'ip'}, ip)))));
}

function countersOf(name) {
  const counters = state.stats.get(name);
  if (!counters) return h('p', {class: 'muted small'}, 'No counters reported.');
  const entries = Object.entries(counters);
  const drops = entries.filter(([key]) => key.startsWith('drop_')).sort((a, b) => b[1] - a[1]);
  const traffic = entries.filter(([key]) => !key.startsWith('drop_'));
  const dropTotal = drops.reduce((sum, [, value]) => sum + value, 0);
  return h('div', {class: 'counters', dataset: {counters: name}},
    h('dl', {class: 'traffic'}, traffic.map(([key, value]) => [
      h('dt', {}, key.replace(/_/g, ' ')),
      h('dd', {class: 'mono', dataset: {counter: key}}, formatCount(value))])),
    h('div', {class: 'drops' + (dropTotal ? ' has-drops' : '')},
      h('div', {class: 'drops-head'}, 'Drops',
        h('span', {class: 'mono', dataset: {counter: 'drops_total'}}, formatCount(dropTotal))),
      drops.length === 0 ? h('p', {class: 'muted small'}, 'none') :
        h('ul', {}, drops.map(([key, value]) => h('li', {},
          h('span', {}, key.slice(5).replace(/_/g, ' ')),
          h('span', {class: 'mono', dataset: {counter: key}}, formatCount(value)))))));
}

function switchCard(sw, endpoints) {
  const status = sw.state === 'STATE_UP' ? 'up' : sw.state === 'STATE_DOWN' ? 'down' : 'unknown';
  const shown = endpoints.slice(0, ENDPOINTS_SHOWN);
  return h('article', {class: 'card switch switch-' + status,
    dataset: {switch: sw.name, state: sw.state || 'STATE_UNSPECIFIED'}},
    h('header', {class: 'card-head'},
      h('h3', {}, sw.name),
      h('span', {class: 'badge badge-' + status, dataset: {field: 'state'}}, status)),
    h('dl', {class: 'facts'},
      h('dt', {}, 'tunnel IP'), h('dd', {class: 'mono', dataset: {field: 'tunnel_ip'}},
        sw.tunnel_ip || '—'),
      h('dt', {}, 'version'), h('dd', {class: 'mono', dataset: {field: 'version'}},
        sw.software_version || '—'),
      h('dt', {}, 'heartbeat'), h('dd', {title: sw.last_heartbeat || ''},
        ago(sw.last_heartbeat))),
    h('h4', {}, 'Endpoints ', h('span', {class: 'muted'}, '(' + endpoints.length + ')')),
    endpoints.length === 0 ? h('p', {class: 'muted small'}, 'None placed here.') :
      h('ul', {class: 'endpoints'}, shown.map(endpointRow)),
    endpoints.length > shown.length
      ? h('p', {class: 'muted small'}, '… and ' + (endpoints.length - shown.length) + ' more') : '',
    h('h4', {}, 'Counters', status === 'up' ? '' : h('span', {class: 'muted'}, ' (last report)')),
    countersOf(sw.name));
}

function draw() {
  const {model} = state;
  assignColors();
  $('totals').replaceChildren(...KINDS.map((kind) =>
    h('li', {dataset: {total: kind}}, h('strong', {}, model[kind].size), ' ' + kind)));
  $('revision').textContent = 'revision ' + state.revision;

  const domains = sorted('domains');
  $('domains').replaceChildren(...(domains.length === 0
    ? [h('p', {class: 'muted'}, 'No domains yet.')] : domains.map(domainCard)));

  const placed = new Map();
  for (const endpoint of model.endpoints.values()) {
    const key = endpoint.switch_name || '';
    if (!placed.has(key)) placed.set(key, []);
    placed.get(key).push(endpoint);
  }
  for (const list of placed.values()) {
    list.sort((a, b) => networkLabel(a.network_id).localeCompare(networkLabel(b.network_id)) ||
      a.id.localeCompare(b.id));
  }
  const cards = sorted('switches').map((sw) => switchCard(sw, placed.get(sw.name) || []));
  // Endpoints placed on a switch that never registered, and those placed nowhere yet.
  const known = new Set([...model.switches.values()].map((sw) => sw.name));
  for (const [name, endpoints] of placed) {
    if (name === '' || known.has(name)) continue;
    cards.push(switchCard({name, state: 'STATE_UNSPECIFIED', tunnel_ip: '', software_version: ''},
      endpoints));
  }
  if (placed.has('')) {
    cards.push(h('article', {class: 'card switch switch-unplaced', dataset: {switch: ''}},
      h('header', {class: 'card-head'}, h('h3', {}, 'Not placed'),
        h('span', {class: 'badge'}, 'no switch')),
      h('ul', {class: 'endpoints'}, placed.get('').slice(0, ENDPOINTS_SHOWN).map(endpointRow))));
  }
  $('switches').replaceChildren(...(cards.length === 0
    ? [h('p', {class: 'muted'}, 'No switches have registered.')] : cards));
  document.body.dataset.revision = state.revision;
}

// Heartbeat ages move on their own.
setInterval(() => { if (!$('main').hidden) scheduleDraw(); }, 5000);

// A controller without a token answers without one; otherwise ask for it.
(async () => {
  try {
    await get('/v1/domains');
    start();
  } catch (error) {
    if (error instanceof Unauthorized) showLogin(state.token ? 'The saved token was refused.' : '');
    else showLogin('Cannot reach the controller: ' + error.message);
  }
})();
