#!/usr/bin/env node
// Committed launcher, so package managers can link the `wafer` bin before the build has run.
import '../dist/cli.js'
