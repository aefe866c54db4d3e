/**
 * The short error beep of a till (an unknown barcode): a WebAudio oscillator, no audio file.
 * A machine without sound simply stays quiet; the message on screen says the same thing.
 */

type AudioContextConstructor = new () => AudioContext;

let context: { of: AudioContextConstructor; audio: AudioContext } | null = null;

function audioContext(): AudioContext | null {
  const Ctor = (window as { AudioContext?: AudioContextConstructor }).AudioContext;
  if (!Ctor) return null;
  // One context for the window's life (browsers limit how many may exist).
  if (context?.of !== Ctor) context = { of: Ctor, audio: new Ctor() };
  return context.audio;
}

export function beep(): void {
  try {
    const audio = audioContext();
    if (!audio) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = 'square';
    oscillator.frequency.value = 880;
    gain.gain.value = 0.08;
    oscillator.connect(gain);
    gain.connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.18);
  } catch {
    // No audio device, or the webview refused: the on-screen message is enough.
  }
}
