// A stdio MCP server whose tools/list comes in three pages ([alpha, beta], [gamma], [delta]):
// no published server paginates, and the client must follow nextCursor. Built on the official
// TypeScript SDK installed next to server-everything; the tests copy it into that folder.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

const tool = (name) => ({
  name,
  description: `The ${name} tool`,
  inputSchema: { type: 'object', properties: { word: { type: 'string' } } },
});
const pages = [['alpha', 'beta'], ['gamma'], ['delta']];
const server = new Server({ name: 'paginated', version: '1.0.0' }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async (request) => {
  const page = Number(request.params?.cursor ?? 0);
  const next = page + 1 < pages.length ? String(page + 1) : undefined;
  return { tools: pages[page].map(tool), ...(next ? { nextCursor: next } : {}) };
});
server.setRequestHandler(CallToolRequestSchema, async (request) => ({
  content: [{ type: 'text', text: `${request.params.name}: ${request.params.arguments?.word ?? ''}` }],
}));
await server.connect(new StdioServerTransport());
