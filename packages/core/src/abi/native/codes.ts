/** Import result codes, docs/abi.md section 3. */
export const enum Code { Ok = 0, BadPointer = -1, TooLarge = -2, Unavailable = -3, NotFound = -4, Invalid = -5, OverBudget = -6, BadArgument = -7 }
