// terminate-tls: valid in ngrok's on_tcp_connect, refused by Podgate at load.
import { refusedAction } from './define.js';

export const terminateTls = refusedAction({
  type: 'terminate-tls',
  phases: ['on_tcp_connect'],
  reason:
    "terminate-tls is not supported by Podgate's TCP proxy: it forwards bytes as they come; terminate TLS in the upstream",
});
