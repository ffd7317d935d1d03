// Eclipse Tahu's JavaScript Sparkplug B codec (npm sparkplug-payload), as a reference for
// tests/payloads.rs. Each line of stdin is a request, each line of stdout its answer:
//   {"encode": PAYLOAD}  ->  the encoded payload in hex
//   {"decode": "HEX"}    ->  the decoded payload as JSON (64-bit numbers as numbers)
const sparkplug = require('sparkplug-payload').get('spBv1.0');
const readline = require('readline');

function plain(value) {
    if (value === null || value === undefined) return value;
    if (typeof value.toNumber === 'function' && typeof value.high === 'number') {
        return value.toNumber();
    }
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
        return Buffer.from(value).toString('base64');
    }
    if (Array.isArray(value)) return value.map(plain);
    if (typeof value === 'object') {
        const out = {};
        for (const [key, inner] of Object.entries(value)) out[key] = plain(inner);
        return out;
    }
    return value;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
    const request = JSON.parse(line);
    if (request.encode !== undefined) {
        console.log(Buffer.from(sparkplug.encodePayload(request.encode)).toString('hex'));
    } else {
        console.log(JSON.stringify(plain(sparkplug.decodePayload(Buffer.from(request.decode, 'hex')))));
    }
});
