// Preloaded with `node --require` by the MCP tests: every server the process starts listens on
// 127.0.0.1 only. server-everything and the conformance suite's scenario servers call
// `listen(port)`, which binds all interfaces; the tests must stay on loopback.
'use strict';
const dns = require('dns');
const net = require('net');
// With a host, `listen` resolves it through `dns.lookup` and binds later; servers that read
// `address().port` right after `listen(0)` (the conformance suite does) need the bind to stay
// synchronous, as it is without a host: answer the lookup of our literal at once.
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (host === '127.0.0.1') {
    const cb = typeof options === 'function' ? options : callback;
    const all = typeof options === 'object' && options !== null && options.all;
    if (all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
    else cb(null, '127.0.0.1', 4);
    return {};
  }
  return lookup.apply(this, arguments);
};
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (args.length === 0 || typeof first === 'function') {
    args.unshift(0, '127.0.0.1');
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string') args[1] = '127.0.0.1';
    else args.splice(1, 0, '127.0.0.1');
  } else if (first && typeof first === 'object' && !Array.isArray(first) && !first.path) {
    args[0] = { ...first, host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
