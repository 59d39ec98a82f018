export async function main(argv: string[]): Promise<number> {
  console.log('podgate', argv);
  return 0;
}
