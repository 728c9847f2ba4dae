#!/usr/bin/env node
console.log("lego: not built yet");
