/**
 * Setup of `npm run test:fake-device`: every test file runs with the stand-in GPU of
 * fake-device.ts as the active backend, so host/device mix-ups (a tensor made on the host where
 * its operand lives on the device, a typed array taken for device storage) fail on a machine
 * without a GPU. Tests that set a backend themselves keep theirs.
 */
import { setBackend } from '../../ts/index.js';
import { installFakeDevice } from './fake-device.js';

installFakeDevice();
setBackend('cuda');
