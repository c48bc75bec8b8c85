export { createGateway, Gateway, type GatewayOptions, type GatewayAddresses } from './gateway.js'
export { GatewayMetrics } from './metrics.js'
export { inspectModule, formatReport, type ModuleReport } from './inspect.js'
