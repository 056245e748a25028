#!/usr/bin/env node
import { processIo } from './io.js';
import { createProgram } from './program.js';

process.exitCode = await createProgram(processIo).run(process.argv.slice(2));
