/** What an image builder is: a name, a version, and a way to produce an ext4 root filesystem file. */

export interface BuildProgress {
  /** what is happening now ('copying files', 'retrieving packages', 'making the filesystem'…) */
  step: string;
  done: number;
  total: number;
}

export type ProgressListener = (p: BuildProgress) => void;

export interface BuildContext {
  /** an empty scratch directory on the cache's filesystem, removed after the build */
  work: string;
  /** where the ext4 file goes (it does not exist yet) */
  output: string;
  /** a directory kept between builds for downloads (debootstrap's .deb files) */
  cache: string;
  progress: ProgressListener;
}

export interface ImageBuilder {
  /** the image's name ('tiny', 'debian-12'): the cache directory and the catalogue's `build` field */
  readonly name: string;
  /** bumped whenever what the builder produces changes: cached images of another version are rebuilt */
  readonly version: number;
  readonly description: string;
  /** what this host lacks to build it (undefined: nothing) */
  missing(): Promise<string | undefined>;
  build(ctx: BuildContext): Promise<void>;
}

export class ImageBuildError extends Error {
  constructor(
    readonly image: string,
    message: string,
  ) {
    super(`image ${image}: ${message}`);
    this.name = 'ImageBuildError';
  }
}
