// The sandbox: load-time rewriting that bounds what one guest call can take (fuel for CPU, a
// cap for memory), and the host helpers that go with it.
export { instrumentModule, DEFAULT_START_FUEL, type InstrumentOptions, type InstrumentedModule } from './instrument.js'
export { fuelBudget, isMetered, setFuel, prepareFuel, resetsOnEntry, budgetEntries, fuelExhausted, fuelRemaining, fuelUsed, MAX_FUEL } from './budget.js'
export { FUEL_EXPORTS, BUDGET_ENTRIES_SECTION, BULK_BYTES_PER_FUEL } from './fuel-pass.js'
