// The two counting rules: weights only, and the paper's Table 1 rule (connections), against the paper's numbers.
import { strict as assert } from 'assert';
import { architectures, connections, hiddenWidth, paperParameterCount, weightCounts } from '../../lib/models';
import { PAPER_TABLE1, PAPER_WIDTHS, paperTable1 } from '../../lib/protocol';

describe("models: the paper's counting rule (connections)", () => {
  it('a conv layer counts kernel weights x output positions, a dense layer its weights', () => {
    const [conv1, , fc1] = architectures.conv2.prunableLayers(1);
    assert.equal(connections(conv1), 3 * 3 * 3 * 64 * 32 * 32);
    assert.equal(connections(fc1), fc1.count);
  });

  it("Conv-2: exactly the paper's 11,388,288 / 43,780,864 / 171,578,880 at 0.5x / 1x / 2x", () => {
    for (const w of [0.5, 1, 2]) assert.equal(paperParameterCount('conv2', w).total, paperTable1('conv2', w), `conv2 ${w}`);
  });

  it("Conv-2 0.1x: 536,964, one more than the paper's 536,963 (with rounding's 26 units it would miss by 1,599)", () => {
    assert.equal(paperParameterCount('conv2', 0.1).total, 536_964);
    assert.equal(PAPER_TABLE1.conv2['0.1'], 536_963);
  });

  it('Conv-2 by its parts: (27f + 9f^2) x 1,024 + 256fu + u^2 + 10u, plus u', () => {
    for (const w of PAPER_WIDTHS) {
      const f = hiddenWidth(64, w);
      const u = hiddenWidth(256, w);
      const p = paperParameterCount('conv2', w);
      assert.equal(p.perLayer.conv1 + p.perLayer.conv2, (27 * f + 9 * f * f) * 1024);
      assert.equal(p.perLayer.fc1 + p.perLayer.fc2 + p.perLayer.proj, 256 * f * u + u * u + 10 * u);
      assert.equal(p.extra, u);
      assert.equal(p.total, (27 * f + 9 * f * f) * 1024 + 256 * f * u + u * u + 10 * u + u);
    }
  });

  it("MLP: no convs and no extra, so the paper's rule is weights only and equals Table 1 at all five sizes", () => {
    for (const w of PAPER_WIDTHS) {
      const p = paperParameterCount('mlp', w);
      assert.equal(p.extra, 0);
      assert.equal(p.total, weightCounts('mlp', w).total);
      assert.equal(p.total, paperTable1('mlp', w));
    }
  });

  it("ResNet matches the paper under neither rule: ours grows with f^2 (the blocks' convs), the paper's linearly", () => {
    for (const w of [0.1, 0.5, 1, 2]) {
      const f = hiddenWidth(16, w);
      assert.equal(weightCounts('resnet', w).total, 27 * f + 54 * f * f + 10 * f);
      const p = paperParameterCount('resnet', w);
      assert.equal(p.total, (27 * f + 54 * f * f) * 1024 + 10 * f);
      assert.equal(p.extra, 0);
      // conv0 by connections plus proj falls short of the paper's count by a small linear term (34f + 50 at 0.5x-2x).
      const paper = paperTable1('resnet', w) as number;
      assert.ok(p.perLayer.conv0 + p.perLayer.proj < paper && paper < p.total, `resnet ${w}`);
    }
    assert.equal(
      (paperTable1('resnet', 1) as number) - (paperParameterCount('resnet', 1).perLayer.conv0 + paperParameterCount('resnet', 1).perLayer.proj),
      34 * 16 + 50,
    );
  });

  it('paperTable1: null where the paper has no count (5x Conv-2/ResNet, widths outside its five)', () => {
    assert.equal(paperTable1('conv2', 5), null);
    assert.equal(paperTable1('mlp', 0.25), null);
    assert.equal(paperTable1('mlp', 5), 1_931_000);
  });
});
