// The hand-written peer of the benchmark: fastify parses the JSON body, kafkajs produces it with acks=all
// (acks: -1) and the answer is 202 once the broker has it. Usage: node server.js PORT BOOTSTRAP TOPIC
'use strict';
const fastify = require('fastify')({ logger: false, bodyLimit: 65536 });
const { Kafka, logLevel } = require('kafkajs');

const [port, bootstrap, topic] = process.argv.slice(2);
const kafka = new Kafka({ clientId: 'node-peer', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING });
const producer = kafka.producer({ allowAutoTopicCreation: true });

fastify.get('/healthz', async () => ({ status: 'ok' }));
fastify.post('/leads', async (request, reply) => {
  const lead = request.body;
  if (lead === null || typeof lead !== 'object' || typeof lead.UserDetails !== 'object') {
    return reply.code(400).send({ error: 'bad_request' });
  }
  await producer.send({
    topic,
    acks: -1,
    messages: [{ key: String(lead.UserDetails.Email || ''), value: JSON.stringify(lead) }],
  });
  return reply.code(202).send({ status: 'accepted' });
});

producer.connect().then(() => fastify.listen({ port: Number(port), host: '127.0.0.1' })).then(() => {
  console.log('listening');
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
