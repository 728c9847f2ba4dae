#!/usr/bin/env node
console.log("create-lego-service: not built yet");
