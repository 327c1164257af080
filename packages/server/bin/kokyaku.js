#!/usr/bin/env node
// The published CLI entry: runs the built command line.
import '../dist/cli/main.js';
