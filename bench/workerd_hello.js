// The workerd contender: one JavaScript worker answering what PiCloud's Hello World answers.
export default {
  async fetch(request) {
    return Response.json({ message: "Hello, world!" });
  },
};
