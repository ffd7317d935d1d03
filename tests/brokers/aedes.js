// aedes (a Node.js MQTT broker from npm) on 127.0.0.1:PORT, for tests against a broker that
// is not mosquitto: it sends retained messages asynchronously, interleaved with live ones.
// Prints "listening PORT" once it accepts connections. NODE_PATH names where aedes is.
const port = Number(process.argv[2]);
const aedes = require('aedes')();
const server = require('net').createServer(aedes.handle);
server.listen(port, '127.0.0.1', () => console.log(`listening ${port}`));
