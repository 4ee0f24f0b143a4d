/** Random samplers: every function takes a Key; nothing reads global state. */
export {};
