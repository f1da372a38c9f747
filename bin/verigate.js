#!/usr/bin/env node
// `verigate serve | migrate | schema | device …` without a build step: TypeScript through tsx.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
