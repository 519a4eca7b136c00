/** An S3 error answer: the HTTP status and S3's error code, written as S3's XML `<Error>` document. */
export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const noSuchKey = () => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
export const noSuchBucket = () => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
export const notImplemented = (what: string) =>
  new S3Error(501, 'NotImplemented', `${what} is not implemented by the embedded S3`);
