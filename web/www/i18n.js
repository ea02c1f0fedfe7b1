// The page's texts in English and Japanese, keyed by id; no framework.
//
// index.html names its texts with data-i18n="id" (the element's content, which may hold inline
// markup such as <kbd> or <code>) and data-i18n-attr="attribute:id; …"; app.js builds the rest
// with t(id, args). A value is a string or a function of one argument object. The Japanese
// follows the notebook's terms (重みパラメータ, バイアス, 特徴マップ, 活性化関数, 予測, 学習,
// 誤差逆伝播法, 損失) and its です/ます style; the notation (c¹₁,₁, w¹ᵢ,ⱼ, b₁, f = ReLU) is the
// notebook's in both.

export const STRINGS = {
  en: {
    'doc.title': 'wgconv: a convolutional layer, live on your GPU',
    'lang.nav': 'Language',
    'h1': 'A convolutional layer, live on your GPU',
    'lede': 'The notebook\'s layer — a 24×24 image, two 5×5 filters, stride 1, c = ReLU(Σ w·x + b) —'
      + ' computed by wgconv\'s WGSL compute shaders through WebGPU, and every number checked against'
      + ' the same crate\'s f64 CPU reference, compiled to WebAssembly.',
    'status.loading': 'Loading…',
    'status.opening': 'Opening WebGPU and compiling the kernels…',
    'status.cpu': 'Running on the f64 CPU reference.',
    'status.gpu': ({ name, fallback }) => `GPU: ${name} via WebGPU${fallback ? ' — a fallback adapter (software, on the CPU)' : ''}.`,
    'status.fused': ' Training runs the fused loop.',
    'status.unfused': ({ need, have }) => ` Training runs unfused: the fused loop needs ${need} storage buffers per shader stage, this adapter allows ${have}.`,
    'status.unnamed': 'unnamed adapter',
    'fail': ({ where, msg }) => `${where}: ${msg}`,
    'fail.wasm': 'loading the WebAssembly module',
    'fail.picture': 'reading the picture',

    'nogpu': ({ reason }) => `<strong>No WebGPU: ${reason}</strong><br>The page still works: every map, explanation and
      training step below comes from wgconv's f64 CPU reference (compiled to WebAssembly), labelled as such.
      To run the real GPU kernels, open it in a browser with WebGPU (Chrome or Edge 113+, Safari 26+,
      Firefox 141+ on Windows), or start Chromium with <code>--enable-unsafe-webgpu</code>
      (on Linux also <code>--enable-features=Vulkan</code>).`,
    'nogpu.cpu': 'turned off by <code>?cpu</code> in the address.',
    'nogpu.nonavigator': 'this browser has no <code>navigator.gpu</code>.',
    'nogpu.nodevice': ({ msg }) => `the browser has WebGPU but gave no usable device (${msg}).`,
    'nogpu.null': '<code>navigator.gpu.requestAdapter()</code> returned null',

    'forward.h': '1. Forward, live',
    'input.h': 'Input x — draw on it',
    'input.help': 'Drag to draw (hold <kbd>Shift</kbd> or tick “erase” to erase). Keyboard: arrow keys'
      + ' move the cursor, <kbd>Space</kbd> paints, <kbd>Delete</kbd> erases.',
    'input.presets': 'Input presets',
    'input.builtin': 'Built-in image',
    'input.stroke': 'Digit stroke',
    'input.noise': 'Noise',
    'input.clear': 'Clear',
    'input.erase': 'erase',
    'input.upload': 'Your picture (resized to 24×24)…',
    'input.uploaded': ({ name }) => `input: ${name}`,
    'filters.h': 'Filters w¹, w² and biases',
    'filters.presets': 'Filter presets',
    'filters.edges': 'Edge filters',
    'filters.random': 'Random',
    'filters.zero': 'Zero',
    'filters.cell': ({ w, i, j }) => `${w} row ${i} column ${j}`,
    'filters.kernel': 'Kernel size',
    'filters.stride': 'Stride',
    'filters.padding': 'Padding',
    'formula.nofit': ({ p, r }) => `Output size: 24 + 2·${p} − ${r} < 0 — the ${r}×${r} kernel does not fit the padded image.`,
    'formula.size': ({ p, r, s, P }) => `Output size: ⌊(24 + 2·${p} − ${r})/${s}⌋ + 1 = ${P}, so each filter gives a ${P}×${P} feature map.`,
    'formula.params': ({ r, n }) => `Parameters: ${r}×${r}×2 = ${n} weights + 2 biases = ${n + 2}.`,
    'maps.scale.z': ({ m }) => `blue −${m} … red +${m}`,
    'maps.scale.y': ({ m }) => `black 0 … white ${m}`,
    'maps.label.z': ({ sup, p, q }) => `pre-activation z${sup}, ${p}×${q}; arrow keys pick an element to explain`,
    'maps.label.y': ({ sup, p, q }) => `feature map c${sup}, ${p}×${q}; arrow keys pick an element to explain`,
    'maps.help': 'Pre-activations z: blue &lt; 0 &lt; red. Feature maps c: black 0 to white at the map\'s'
      + ' maximum — every blue z becomes black.',
    'source.gpu': 'Computed on the GPU (WebGPU).',
    'source.opening': 'Computed by the f64 CPU reference while the GPU opens.',
    'source.cpu': 'Computed by the f64 CPU reference (no WebGPU).',
    'timing': ({ gpu, cpu, first, firstGpu }) => (gpu !== null ? `GPU pass with readback ${gpu} ms; ` : '')
      + `CPU reference ${cpu} ms. First maps ${first} ms after the page started`
      + (firstGpu !== null ? `, first GPU maps ${firstGpu} ms.` : '.'),
    'timing.failed': ({ msg }) => `Not computed: ${msg}`,

    'explain.h': '2. One output element, explained',
    'explain.help': 'Hover or tap a pixel of any map above (or focus a map and use the arrow keys): its'
      + ' window is outlined on the input, and its sum is spelled out.',
    'explain.padding': ({ row, col }) => `padding (row ${row}, column ${col}): x = 0`,
    'explain.terms': ({ n }) => `the ${n} products w·x of the window`,
    'explain.caption': ({ sup, r0, r1, c0, c1 }) => `w${sup}ᵢ,ⱼ · xᵢ,ⱼ over input rows ${r0}–${r1}, columns ${c0}–${c1}`,
    'explain.sum': ({ n }) => `sum of the ${n} products`,
    'explain.cpuonly': 'CPU (f64) reference only: no WebGPU, so no GPU value to compare.',
    'explain.ratio': ({ r }) => `${r} of its bound`,
    'explain.error': ({ ratio, n, bound }) => `error: ${ratio} (bound ${bound} = (${n} + 1)·2⁻²³·(Σ|w·x| + |b|) + …)`,

    'check.h': '3. Check the GPU',
    'check.btn': 'Check this layer: GPU against the f64 CPU reference',
    'check.nogpu': 'No WebGPU here: the maps are the f64 CPU reference itself, so there is no GPU result to check.',
    'check.running': 'Checking…',
    'check.failed': ({ msg }) => `Check failed: ${msg}`,
    'check.result': ({ checked, over }) => `${checked} outputs (y and z) compared, ${over} over their bound.`,
    'check.worst': ({ where }) => ` Worst: ${where}.`,
    'check.where': ({ map, p, q, gpu, cpu, ratio, bound }) => `${map} at p = ${p}, q = ${q}: GPU ${gpu}, CPU ${cpu}, error ${ratio} of its bound ${bound}`,
    'check.nothing': 'nothing compared',

    'learn.h': '4. Learning, live',
    'learn.help': 'A hidden teacher (the notebook\'s edge filters, biases 0.1 and −0.05) labels 4 random'
      + ' images; a student of the same shape starts from random weights and learns to imitate it by SGD on'
      + ' the mean squared error, with gradients from backpropagation — <code>wgconv train</code>\'s task,'
      + ' on the same kernels.',
    'learn.controls': 'Training controls',
    'learn.run': 'Run',
    'learn.pause': 'Pause',
    'learn.step': 'Step',
    'learn.reset': 'Reset',
    'learn.lr': 'Learning rate',
    'learn.momentum': 'Momentum',
    'learn.loss': 'Loss curve, log scale',
    'learn.student': 'student',
    'learn.teacher': 'teacher',
    'learn.axis': 'step',
    'learn.legend': 'loss (mean squared error), log scale; dashed: 1e−6',
    'learn.source.gpu': 'GPU',
    'learn.source.fused': 'GPU, fused loop',
    'learn.source.cpu': 'CPU reference (f64), no WebGPU',
    'learn.status': ({ source, steps, loss, sps, dw, db }) => `${source} · step ${steps}`
      + (loss === null ? '' : ` · loss ${loss}`)
      + ` · ${sps} steps/s (steps and their readback)`
      + ` · max |w − teacher| ${dw}, |b − teacher| ${db}`,
    'learn.nostart': ({ msg }) => `Training could not start: ${msg}`,
    'learn.stopped': ({ msg }) => `Training stopped: ${msg} (Reset starts again)`,
    'learn.badsgd': 'The learning rate must be > 0 and the momentum in [0, 1).',

    'selftest.h': 'Self-test',
    'selftest.help': ({ href }) => `<a href="${href}">Open the page with <code>?selftest</code></a> to run, on the GPU, the`
      + ' notebook\'s layer and 20 random shapes against the CPU reference, and 200 training steps.',
    'selftest.json': 'The result in full',
    'selftest.running': 'running…',
    'selftest.nogpu': 'no WebGPU adapter: the self-test runs the GPU kernels and cannot run on the CPU reference alone',
    'selftest.failed': ({ msg }) => `Self-test failed: ${msg}`,
    'selftest.summary': ({ pass, total, shapes, versions, failed, worst, steps, first, final, sps }) =>
      `Self-test ${pass ? 'passed' : 'FAILED'}: ${total} forward runs (the notebook's layer and ${shapes} random shapes,`
      + ` each with ${versions} forward versions), ${failed} with elements over their bound, worst error ${worst} of its bound;`
      + ` ${steps} training steps, loss ${first} → ${final} at ${sps} steps/s.`,

    // Section 2b, one weight's gradient (www/grad.js).
    'grad.h': '2b. One weight\'s gradient, explained',
    'grad.help': 'Pick a weight w¹ᵢ,ⱼ or w²ᵢ,ⱼ of the student of section 4 (click a cell), then press Step:'
      + ' one training step runs, and the gradient that step computed for the weight is spelled out from'
      + ' its own values — backpropagation through one layer: the loss L, its gradient through the ReLU'
      + ' dz = dL/dc · [z &gt; 0], the window of x it multiplies, ∂L/∂w as a sum of products, ∂L/∂b, and'
      + ' the SGD update it made.',
    'grad.step': 'Step',
    'grad.grid': ({ sup }) => `student w${sup}: pick a weight`,
    'grad.cell': ({ sup, i, j, v }) => `w${sup} row ${i} column ${j} = ${v}`,
    'grad.none': 'Press Step to run one training step and see the gradient it computed.',
    'grad.running': 'Running one step…',
    'grad.stepof': ({ step, now, source }) => `Step ${step} of the training — ${source}.`
      + (now !== step ? ` Training is now at step ${now}; press Step for a fresh one.` : ''),
    'grad.source.gpu': 'the GPU trainer\'s own buffers, read back after the step',
    'grad.source.cpu': 'no WebGPU: the f64 CPU reference\'s step',
    'grad.loss': ({ l }) => `loss L = (1/M)·Σ (c − t)² = ${l}  (M = 4·2·20·20 = 3200; before this step's update)`,
    'grad.loss.twin': ({ twin, err, bound }) => `\n  f64 twin ${twin}, error ${err} (bound ${bound})`,
    'grad.maps': ({ sup, i, j, i1, j1 }) => `Top: dz${sup} = dL/dc${sup} · [z${sup} &gt; 0] of each image of the batch`
      + ` (blue &lt; 0 &lt; red; grey: 0 where the ReLU cut, z${sup} ≤ 0; outlined: the largest terms).`
      + ` Below: the window of x it multiplies (blue &lt; 0 &lt; red), rows <span class="nw">${i}–${i1}</span>, columns <span class="nw">${j}–${j1}</span>.`,
    'grad.img': ({ n }) => `image ${n}`,
    'grad.dz.label': ({ sup, n }) => `dz${sup} of image ${n}, 20×20`,
    'grad.x.label': ({ n, i, j }) => `the window of image ${n} starting at row ${i}, column ${j}, 20×20`,
    'grad.more': ({ n, cut }) => `+ ${n} more terms (${cut} of them 0: the ReLU cut)`,
    'grad.gpu.gpu': '(GPU)',
    'grad.gpu.cpu': '(CPU reference, f64)',
    'grad.top': ({ n, total }) => `the ${n} largest |terms| of ${total}`,
    'grad.term': 'term dz·x',
    'grad.vs': ({ what, gpu, twin, err, bound, abs, ratio }) => `${what}: GPU ${gpu}, f64 twin ${twin}, error ${err}: ${ratio}`
      + `\n  (bound ${bound} = 1601·2⁻²³·Σ|terms| + …, Σ|terms| = ${abs})`,
    'grad.twin.note': 'The f64 twin is wgconv\'s CPU reference of each kernel, fed what that GPU kernel read'
      + ' (the GPU\'s y for the loss, its dz for the gradients, its gradient and momentum for the update), as'
      + ' the crate\'s own step check does: an f32 sum of n terms errs by at most about n·2⁻²³·Σ|terms|.',
    'grad.cpuonly': 'No WebGPU: these are the f64 CPU reference\'s own values; there is no GPU value to compare.',
    'grad.sgd.h': ({ w }) => `The SGD update this step applied to ${w}`,
    'grad.sgd.twin': ({ twin, err, bound, ratio }) => `f64 twin ${twin}, error ${err}: ${ratio} (bound ${bound})`,

    // Section 5, the digits (web/www/digits.js).
    'digits.h': '5. Digits, live',
    'digits.help': 'The notebook\'s layer (K filters of 5×5, stride 1, ReLU) as the first layer of a small network that'
      + ' reads handwritten digits: conv 5×5 + ReLU → max-pool 2×2 → a linear layer of 100·K inputs and 10 outputs, one'
      + ' per digit (<code>wgconv digits</code>\'s network). It learns here, on your GPU, by SGD on the cross-entropy'
      + ' (mini-batches of 64 by default, as <code>wgconv digits</code>), with gradients from backpropagation; after every 20 steps it classifies every test'
      + ' digit, which it never learns from. It starts with K = 4: with the notebook\'s 2 filters it levels off'
      + ' near 90 % on these digits and crosses the 90 % line only now and then; choose 2 to watch the notebook\'s own'
      + ' layer learn.',
    'digits.data': ({ train, test, per, perTest }) => `The digits: ${train} training digits and ${test} test digits from MNIST`
      + ` (28×28, the crate's file: per digit 0–9 the first ${per} of its training part and the first ${perTest} of its`
      + ' test part, where the first 80 % of each digit train and the rest test). The network sees the 24×24 centre'
      + ' of each, as x = (p − 0.1307)/0.3081.',
    'digits.controls': 'Digits training controls',
    'digits.train': 'Train',
    'digits.k': 'Filters K',
    'digits.batch': 'Batch',
    'digits.curve': 'Test accuracy after every 20 steps',
    'digits.legend': ({ test }) => `test accuracy on the ${test} test digits; dashed: 90 %`,
    'digits.status': ({ steps, epoch, digits, acc, loss, ms, to90, steps90 }) => `GPU · step ${steps}`
      + ` (${digits} digits seen, epoch ${epoch})`
      + (acc === null ? '' : ` · test accuracy ${acc}\u00a0%`) + (loss === null ? '' : ` · loss ${loss}`)
      + (steps ? ` · ${ms} ms per step with the tests` : '')
      + (to90 === null ? '' : ` · 90 % reached after ${to90} s, at step ${steps90}`),
    'digits.nostart': ({ msg }) => `The network could not start: ${msg}`,
    'digits.stopped': ({ msg }) => `Training stopped: ${msg} (Reset starts again)`,
    'digits.noclassify': ({ msg }) => `Not classified: ${msg}`,
    'digits.nogpu': 'This section trains on the GPU only: it needs WebGPU (see the banner at the top).',
    'digits.filters.h': 'Its filters w, learned (blue < 0 < red)',
    'digits.notebook.h': 'The notebook\'s edge filters (section 1)',
    'digits.draw.h': 'Draw a digit (28×28)',
    'digits.draw.help': 'Drag to draw (hold <kbd>Shift</kbd> to erase); the dashed square is the 24×24 centre the'
      + ' network sees. Draw it large and centred, as the data is.',
    'digits.sample': 'A test digit',
    'digits.label': ({ label }) => `its label: ${label}`,
    'digits.prediction': ({ digit, p }) => `Prediction: ${digit} (probability ${p} %)`,
    'digits.probs': 'The ten probabilities (softmax of the outputs)',
    'digits.maps.h': 'Its feature maps for the drawing',
    'digits.conv': ({ sup, n, m }) => `c${sup} after conv + ReLU, ${n}×${n}; white ${m}`,
    'digits.pool': ({ sup, n, m }) => `c${sup} after max-pool, ${n}×${n}; white ${m}`,
  },

  ja: {
    'doc.title': 'wgconv：あなたの GPU で動く畳み込み層',
    'lang.nav': '言語',
    'h1': 'あなたの GPU で動く畳み込み層',
    'lede': 'ノートブックの畳み込み層（24×24 の入力画像、5×5 のフィルタ 2枚、ストライド 1、c = ReLU(Σ w·x + b)）を、'
      + 'wgconv の WGSL コンピュートシェーダが WebGPU で計算します。すべての数値は、同じクレートを WebAssembly に'
      + 'コンパイルした f64 の CPU 参照実装と照合します。',
    'status.loading': '読み込んでいます…',
    'status.opening': 'WebGPU を準備して、カーネルをコンパイルしています…',
    'status.cpu': 'f64 の CPU 参照実装で計算しています。',
    'status.gpu': ({ name, fallback }) => `GPU：${name} を WebGPU 経由で使っています${fallback ? '（フォールバックアダプタ、つまり CPU 上で動くソフトウェア実装です）' : ''}。`,
    'status.fused': '学習は融合ループ（複数のステップを 1回のディスパッチで実行）で行います。',
    'status.unfused': ({ need, have }) => `学習は融合ループなしで行います。融合ループにはシェーダステージごとに ${need}個のストレージバッファが必要ですが、このアダプタでは ${have}個までです。`,
    'status.unnamed': '名前のないアダプタ',
    'fail': ({ where, msg }) => `${where}に失敗しました：${msg}`,
    'fail.wasm': 'WebAssembly モジュールの読み込み',
    'fail.picture': '画像の読み込み',

    'nogpu': ({ reason }) => `<strong>WebGPU が使えません：${reason}</strong><br>それでもページは動きます。`
      + '以下のマップ、説明、学習のステップはすべて、wgconv の f64 の CPU 参照実装（WebAssembly にコンパイルしたもの）で計算し、'
      + 'そのことを表示します。本物の GPU カーネルを動かすには、WebGPU に対応したブラウザ（Chrome または Edge 113 以降、'
      + 'Safari 26 以降、Windows 版 Firefox 141 以降）で開くか、Chromium を <code>--enable-unsafe-webgpu</code> を付けて'
      + '起動してください（Linux ではさらに <code>--enable-features=Vulkan</code> も付けます）。',
    'nogpu.cpu': 'アドレスの <code>?cpu</code> で無効にされています。',
    'nogpu.nonavigator': 'このブラウザには <code>navigator.gpu</code> がありません。',
    'nogpu.nodevice': ({ msg }) => `ブラウザに WebGPU はありますが、使えるデバイスが得られませんでした（${msg}）。`,
    'nogpu.null': '<code>navigator.gpu.requestAdapter()</code> が <code>null</code> を返しました',

    'forward.h': '1. 予測（順伝播）をその場で計算',
    'input.h': '入力データ x（描けます）',
    'input.help': 'ドラッグで描けます（<kbd>Shift</kbd> を押しながら、または「消しゴム」にチェックを入れると消せます）。'
      + 'キーボードでは、矢印キーでカーソルを動かし、<kbd>スペース</kbd> で塗り、<kbd>Delete</kbd> で消します。',
    'input.presets': '入力画像の選択',
    'input.builtin': '組み込みの画像',
    'input.stroke': '数字の筆跡',
    'input.noise': 'ノイズ',
    'input.clear': 'クリア',
    'input.erase': '消しゴム',
    'input.upload': '手持ちの画像（24×24 に縮小）…',
    'input.uploaded': ({ name }) => `入力：${name}`,
    'filters.h': 'フィルタ（重みパラメータ w¹, w²）とバイアス',
    'filters.presets': 'フィルタの選択',
    'filters.edges': 'エッジ検出フィルタ',
    'filters.random': 'ランダム',
    'filters.zero': 'ゼロ',
    'filters.cell': ({ w, i, j }) => `${w} の ${i}行${j}列目`,
    'filters.kernel': 'フィルタサイズ',
    'filters.stride': 'ストライド',
    'filters.padding': 'パディング',
    'formula.nofit': ({ p, r }) => `出力サイズ：24 + 2·${p} − ${r} < 0 なので、${r}×${r} のフィルタはパディングした画像に収まりません。`,
    'formula.size': ({ p, r, s, P }) => `出力サイズ = ⌊(24 + 2·${p} − ${r})/${s}⌋ + 1 = ${P}。つまり、フィルタ 1枚ごとに ${P}×${P} の特徴マップが生成されます。`,
    'formula.params': ({ r, n }) => `パラメータ数：重みパラメータ ${r}×${r}×2 = ${n}個 + バイアス 2個 = 合計 ${n + 2}個`,
    'maps.scale.z': ({ m }) => `青 −${m} … 赤 +${m}`,
    'maps.scale.y': ({ m }) => `黒 0 … 白 ${m}`,
    'maps.label.z': ({ sup, p, q }) => `活性化関数を通す前の値 z${sup}（${p}×${q}）。矢印キーで説明する要素を選べます`,
    'maps.label.y': ({ sup, p, q }) => `特徴マップ c${sup}（${p}×${q}）。矢印キーで説明する要素を選べます`,
    'maps.help': '活性化関数を通す前の値 z：青 &lt; 0 &lt; 赤。特徴マップ c：0 が黒、マップの最大値が白です。'
      + '負の値（青い z）はすべて 0 にカットされて黒になります。',
    'source.gpu': 'GPU（WebGPU）で計算しました。',
    'source.opening': 'GPU の準備ができるまで、f64 の CPU 参照実装で計算しています。',
    'source.cpu': 'f64 の CPU 参照実装で計算しました（WebGPU なし）。',
    'timing': ({ gpu, cpu, first, firstGpu }) => (gpu !== null ? `GPU での計算（結果の読み戻しを含む）${gpu} ms、` : '')
      + `CPU 参照実装 ${cpu} ms。最初のマップはページの開始から ${first} ms で表示`
      + (firstGpu !== null ? `、GPU による最初のマップは ${firstGpu} ms で表示されました。` : 'されました。'),
    'timing.failed': ({ msg }) => `計算できませんでした：${msg}`,

    'explain.h': '2. 出力の 1 要素をくわしく',
    'explain.help': '上のマップのどれかのピクセルにマウスを重ねるか、タップしてください（マップにフォーカスして矢印キーでも選べます）。'
      + 'その要素の計算に使うフィルタの位置が入力の上に枠で示され、積和演算が 1 項ずつ書き出されます。',
    'explain.padding': ({ row, col }) => `パディング（${row}行${col}列目）：x = 0`,
    'explain.terms': ({ n }) => `フィルタの位置にある ${n}個の積 w·x`,
    'explain.caption': ({ sup, r0, r1, c0, c1 }) => `w${sup}ᵢ,ⱼ · xᵢ,ⱼ（入力の ${r0}–${r1}行目、${c0}–${c1}列目）`,
    'explain.sum': ({ n }) => `${n}個の積の和`,
    'explain.cpuonly': 'CPU（f64）の参照実装だけです。WebGPU がないので、比べる GPU の値はありません。',
    'explain.ratio': ({ r }) => `許容誤差の ${r} 倍`,
    'explain.error': ({ ratio, n, bound }) => `誤差：${ratio}（許容誤差 ${bound} = (${n} + 1)·2⁻²³·(Σ|w·x| + |b|) + …）`,

    'check.h': '3. GPU の計算を確かめる',
    'check.btn': 'この層を検証：GPU の結果を f64 の CPU 参照実装と比べる',
    'check.nogpu': 'ここには WebGPU がありません。マップは f64 の CPU 参照実装そのものなので、確かめる GPU の結果はありません。',
    'check.running': '検証しています…',
    'check.failed': ({ msg }) => `検証できませんでした：${msg}`,
    'check.result': ({ checked, over }) => `${checked}個の出力（y と z）を比べ、許容誤差を超えたものは ${over}個でした。`,
    'check.worst': ({ where }) => `誤差が最も大きいもの：${where}。`,
    'check.where': ({ map, p, q, gpu, cpu, ratio, bound }) => `${map} の p = ${p}, q = ${q}：GPU ${gpu}、CPU ${cpu}、誤差は許容誤差 ${bound} の ${ratio} 倍`,
    'check.nothing': '比べたものはありません',

    'learn.h': '4. 学習をその場で実行',
    'learn.help': '隠れた「先生」の層（ノートブックのエッジ検出フィルタ、バイアス 0.1 と −0.05）が、ランダムな画像 4枚に'
      + '正解値を付けます。同じ形の「生徒」の層はランダムな重みパラメータから始め、平均二乗誤差を損失として、'
      + '誤差逆伝播法で求めた勾配による SGD（確率的勾配降下法）で学習し、先生をまねるようになります。'
      + '<code>wgconv train</code> と同じ課題を、同じカーネルで解いています。',
    'learn.controls': '学習の操作',
    'learn.run': '実行',
    'learn.pause': '一時停止',
    'learn.step': '1 ステップ',
    'learn.reset': 'リセット',
    'learn.lr': '学習率',
    'learn.momentum': 'モーメンタム',
    'learn.loss': '損失の推移（対数目盛）',
    'learn.student': '生徒',
    'learn.teacher': '先生',
    'learn.axis': 'ステップ',
    'learn.legend': '損失（平均二乗誤差）、対数目盛。破線：1e−6',
    'learn.source.gpu': 'GPU',
    'learn.source.fused': 'GPU（融合ループ）',
    'learn.source.cpu': 'CPU 参照実装（f64）、WebGPU なし',
    'learn.status': ({ source, steps, loss, sps, dw, db }) => `${source} · ステップ ${steps}`
      + (loss === null ? '' : ` · 損失 ${loss}`)
      + ` · 毎秒 ${sps} ステップ（結果の読み戻しを含む）`
      + ` · 先生との差 max |w − w先生| ${dw}、max |b − b先生| ${db}`,
    'learn.nostart': ({ msg }) => `学習を始められませんでした：${msg}`,
    'learn.stopped': ({ msg }) => `学習が止まりました：${msg}（「リセット」でやり直せます）`,
    'learn.badsgd': '学習率は 0 より大きく、モーメンタムは 0 以上 1 未満にしてください。',

    'selftest.h': '自己テスト',
    'selftest.help': ({ href }) => `<a href="${href}">ページを <code>?selftest</code> 付きで開く</a>と、ノートブックの層と`
      + 'ランダムな 20通りの形を GPU で計算して CPU 参照実装と比べ、学習を 200 ステップ実行します。',
    'selftest.json': '結果のすべて',
    'selftest.running': '実行しています…',
    'selftest.nogpu': 'WebGPU のアダプタがありません。自己テストは GPU カーネルを動かすもので、CPU 参照実装だけでは実行できません',
    'selftest.failed': ({ msg }) => `自己テストに失敗しました：${msg}`,
    'selftest.summary': ({ pass, total, shapes, versions, failed, worst, steps, first, final, sps }) =>
      `自己テスト${pass ? '合格' : '不合格'}：順伝播を ${total}回（ノートブックの層とランダムな ${shapes}通りの形を、`
      + `それぞれ ${versions}種類の実装で）計算し、許容誤差を超えた要素があったのは ${failed}回、最大の誤差は許容誤差の ${worst} 倍でした。`
      + `学習は ${steps} ステップで、損失は ${first} → ${final}（毎秒 ${sps} ステップ）。`,

    // 2b 節、重み 1 つの勾配（www/grad.js）。
    'grad.h': '2b. 重み 1 つの勾配をくわしく',
    'grad.help': '4 の生徒の重み w¹ᵢ,ⱼ か w²ᵢ,ⱼ を 1 つ選んで（マスをクリック）、「1 ステップ」を押してください。'
      + '学習が 1 ステップ進み、そのステップがこの重みについて計算した勾配を、ステップ自身の値で示します。'
      + '1 層の誤差逆伝播法です：損失 L、ReLU を通した勾配 dz = dL/dc · [z &gt; 0]、それに掛かる入力 x の窓、'
      + '積の和としての ∂L/∂w、∂L/∂b、そしてこのステップの SGD による更新。',
    'grad.step': '1 ステップ',
    'grad.grid': ({ sup }) => `生徒の w${sup}：重みを選ぶ`,
    'grad.cell': ({ sup, i, j, v }) => `w${sup} の ${i}行${j}列目 = ${v}`,
    'grad.none': '「1 ステップ」を押すと、学習を 1 ステップ進めて、そのステップが計算した勾配を示します。',
    'grad.running': '1 ステップ実行しています…',
    'grad.stepof': ({ step, now, source }) => `学習のステップ ${step}：${source}。`
      + (now !== step ? `学習はいまステップ ${now} です。新しい値は「1 ステップ」で見られます。` : ''),
    'grad.source.gpu': 'GPU の学習器のバッファをステップの後に読み戻した値',
    'grad.source.cpu': 'WebGPU なし：f64 CPU 参照実装のステップ',
    'grad.loss': ({ l }) => `損失 L = (1/M)·Σ (c − t)² = ${l}（M = 4·2·20·20 = 3200、このステップの更新の前）`,
    'grad.loss.twin': ({ twin, err, bound }) => `\n  f64 の参照値 ${twin}、誤差 ${err}（許容誤差 ${bound}）`,
    'grad.maps': ({ sup, i, j, i1, j1 }) => `上：バッチの画像ごとの dz${sup} = dL/dc${sup} · [z${sup} &gt; 0]`
      + `（青 &lt; 0 &lt; 赤、灰色：ReLU が切った z${sup} ≤ 0 の 0、枠：絶対値の大きい項）。`
      + `下：それに掛かる入力 x の窓（青 &lt; 0 &lt; 赤、<span class="nw">${i}–${i1}行目</span>、<span class="nw">${j}–${j1}列目</span>）。`,
    'grad.img': ({ n }) => `画像 ${n}`,
    'grad.dz.label': ({ sup, n }) => `画像 ${n} の dz${sup}、20×20`,
    'grad.x.label': ({ n, i, j }) => `画像 ${n} の ${i}行${j}列目から始まる窓、20×20`,
    'grad.more': ({ n, cut }) => `+ 残り ${n}項（うち ${cut}項は ReLU が切った 0）`,
    'grad.gpu.gpu': '（GPU）',
    'grad.gpu.cpu': '（CPU 参照実装、f64）',
    'grad.top': ({ n, total }) => `${total}項のうち絶対値の大きい ${n}項`,
    'grad.term': '項 dz·x',
    'grad.vs': ({ what, gpu, twin, err, bound, abs, ratio }) => `${what}：GPU ${gpu}、f64 の参照値 ${twin}、誤差 ${err}：${ratio}`
      + `\n  （許容誤差 ${bound} = 1601·2⁻²³·Σ|項| + …、Σ|項| = ${abs}）`,
    'grad.twin.note': 'f64 の参照値は、wgconv の各カーネルの CPU 参照実装に、その GPU カーネルが読んだ値'
      + '（損失には GPU の y、勾配には GPU の dz、更新には GPU の勾配とモーメンタム）を与えて計算したものです。'
      + 'クレート自身のステップの検査と同じ方法です。n 項の f32 の和の誤差は、おおよそ n·2⁻²³·Σ|項| 以下です。',
    'grad.cpuonly': 'WebGPU がないので、これは f64 CPU 参照実装そのものの値です。比べる GPU の値はありません。',
    'grad.sgd.h': ({ w }) => `このステップが ${w} に行った SGD の更新`,
    'grad.sgd.twin': ({ twin, err, bound, ratio }) => `f64 の参照値 ${twin}、誤差 ${err}：${ratio}（許容誤差 ${bound}）`,

    // 5 節、手書き数字（web/www/digits.js）。
    'digits.h': '5. 手書き数字の学習をその場で実行',
    'digits.help': 'ノートブックの畳み込み層（5×5 のフィルタ K枚、ストライド 1、ReLU）を 1層目にした、手書き数字を読む小さなネットワークです。'
      + '畳み込み 5×5 + ReLU → 2×2 の最大値プーリング → 入力 100·K個・出力 10個（数字ごとに 1つ）の全結合層'
      + '（<code>wgconv digits</code> と同じネットワーク）。あなたの GPU の上で、交差エントロピーを損失とし、誤差逆伝播法で求めた勾配による'
      + ' SGD（ミニバッチは <code>wgconv digits</code> と同じく標準で 64枚）でその場で学習します。20 ステップごとに、学習には使わないテスト用の数字をすべて分類します。'
      + '最初は K = 4 です。ノートブックと同じ 2枚のフィルタでは、この数字での正解率が 90 % 前後で頭打ちになり、90 % の線を越えるのは時々だけです。'
      + 'ノートブックの層そのものが学ぶ様子を見るには 2 を選んでください。',
    'digits.data': ({ train, test, per, perTest }) => `データ：手書き数字データセット（28×28、クレートのファイル）から、学習用 ${train}枚とテスト用 ${test}枚。`
      + `各数字 0〜9 のうち最初の 80 % が学習用、残りがテスト用で、そこから数字ごとに学習用の最初の ${per}枚と、テスト用の最初の ${perTest}枚を使います。`
      + 'ネットワークが見るのは各画像の中央 24×24 で、x = (p − 0.1307)/0.3081 と正規化します。',
    'digits.controls': '手書き数字の学習の操作',
    'digits.train': '学習',
    'digits.k': 'フィルタの枚数 K',
    'digits.batch': 'ミニバッチ',
    'digits.curve': '20 ステップごとのテストの正解率',
    'digits.legend': ({ test }) => `テスト用の ${test}枚での正解率。破線：90 %`,
    'digits.status': ({ steps, epoch, digits, acc, loss, ms, to90, steps90 }) => `GPU · ステップ ${steps}`
      + `（見た数字 ${digits}枚、エポック ${epoch}）`
      + (acc === null ? '' : ` · テストの正解率 ${acc}\u00a0%`) + (loss === null ? '' : ` · 損失 ${loss}`)
      + (steps ? ` · 1 ステップあたり ${ms} ms（テストを含む）` : '')
      + (to90 === null ? '' : ` · ${to90} 秒後、ステップ ${steps90} で 90 % に到達`),
    'digits.nostart': ({ msg }) => `ネットワークを始められませんでした：${msg}`,
    'digits.stopped': ({ msg }) => `学習が止まりました：${msg}（「リセット」でやり直せます）`,
    'digits.noclassify': ({ msg }) => `分類できませんでした：${msg}`,
    'digits.nogpu': 'この節は GPU でだけ学習します。WebGPU が必要です（ページ上部の案内を見てください）。',
    'digits.filters.h': '学習したフィルタ w（青 < 0 < 赤）',
    'digits.notebook.h': 'ノートブックのエッジ検出フィルタ（1 節）',
    'digits.draw.h': '数字を描く（28×28）',
    'digits.draw.help': 'ドラッグで描けます（<kbd>Shift</kbd> を押しながらで消せます）。破線の正方形が、ネットワークが見る中央 24×24 です。'
      + 'データと同じように、大きく中央に描いてください。',
    'digits.sample': 'テスト用の数字',
    'digits.label': ({ label }) => `正解：${label}`,
    'digits.prediction': ({ digit, p }) => `予測：${digit}（確率 ${p} %）`,
    'digits.probs': '10個の確率（出力のソフトマックス）',
    'digits.maps.h': '描いた数字の特徴マップ',
    'digits.conv': ({ sup, n, m }) => `畳み込み + ReLU の後の c${sup}、${n}×${n}、白 ${m}`,
    'digits.pool': ({ sup, n, m }) => `最大値プーリングの後の c${sup}、${n}×${n}、白 ${m}`,
  },
};

// Messages that come from the wasm side (web/src and the wgconv crate) are English; these
// patterns give their Japanese. page.test.mjs checks that every message web/src writes matches
// one. A message none matches is shown as it is, after a Japanese lead-in.
export const WASM_MESSAGES = [
  [/^no WebGPU device is open/, () => 'WebGPU のデバイスが開かれていません。ページは CPU 参照実装で動いています'],
  [/^the forward pass kept no z$/, () => '順伝播の結果に z がありません'],
  [/^no forward pass has run yet$/, () => 'まだ順伝播を計算していません'],
  [/^no output element \((\d+), (\d+), (\d+)\) in maps of 2 × (\d+) × (\d+)$/,
    (m) => `2 × ${m[4]} × ${m[5]} のマップに出力要素 (${m[1]}, ${m[2]}, ${m[3]}) はありません`],
  [/^no training session/, () => '学習のセッションがありません（始めるか、前の呼び出しが終わるのを待ってください）'],
  [/^the student has no bias$/, () => '生徒の層にバイアスがありません'],
  [/^the live layer has no bias$/, () => '順伝播の層にバイアスがありません'],
  [/^no training task$/, () => '学習の課題がありません'],
  [/^the browser gave no WebGPU adapter \((.*)\)$/s, (m) => `ブラウザが WebGPU のアダプタを返しませんでした（${m[1]}）`],
  // web/src/digits.rs.
  [/^no digits network/, () => '手書き数字のネットワークがありません（始めるか、前の呼び出しが終わるのを待ってください）'],
  [/^the digits: (\d+) bytes for (\d+) labels, (\d+) of them training digits$/,
    (m) => `数字のデータが正しくありません：正解ラベル ${m[2]}個（学習用 ${m[3]}個）に ${m[1]} バイト`],
  [/^(\d+) filters, batch (\d+): 1 to (\d+) filters, a batch of 1 or more$/,
    (m) => `フィルタ ${m[1]}枚、バッチ ${m[2]}：フィルタは 1〜${m[3]}枚、バッチは 1 以上にしてください`],
  [/^the digits network has no conv layer first$/, () => '手書き数字のネットワークの 1層目が畳み込み層ではありません'],
  [/^no order for the epoch$/, () => 'このエポックの順番がありません'],
  [/^the digits network is not conv, pool, linear$/, () => '手書き数字のネットワークが「畳み込み、プーリング、全結合」の順になっていません'],
  [/^a download did not finish$/, () => 'GPU からの読み戻しが終わりませんでした'],
  [/^no steps to run$/, () => '実行するステップがありません'],
  [/^a picture of (\d+) values, not 28×28$/, (m) => `画像の値が ${m[1]}個で、28×28 ではありません`],
  // From the wgconv crate (src/error.rs), the ones a page can meet.
  [/^training diverged: the loss of step (\d+) \(0-based\) is (\S+); nothing was written$/,
    (m) => `学習が発散しました：ステップ ${m[1]}（0 から数えます）の損失が ${m[2]} です。学習率を下げてください`],
  [/^could not open a device on (".*?"): (.*)$/s, (m) => `${m[1]} でデバイスを開けませんでした：${m[2]}`],
  [/^GPU out of memory during (.*)$/s, (m) => `GPU のメモリが足りません（${m[1]}）`],
  [/^GPU validation error during (.*?): (.*)$/s, (m) => `GPU の検証エラー（${m[1]}）：${m[2]}`],
  [/^GPU internal error during (.*?): (.*)$/s, (m) => `GPU の内部エラー（${m[1]}）：${m[2]}`],
  [/^reading results back from the GPU failed during (.*?): (.*)$/s, (m) => `GPU からの結果の読み戻しに失敗しました（${m[1]}）：${m[2]}`],
  [/^bad shape: (.*)$/s, (m) => `形が正しくありません：${m[1]}`],
  // web/src/grad.rs
  [/^no step has been explained yet$/, () => 'まだ説明するステップを実行していません'],
  [/^no weight \((\d+), (\d+), (\d+)\) in filters of (\d+ × \d+ × \d+)$/,
    (m) => `${m[4]} のフィルタに重み (${m[1]}, ${m[2]}, ${m[3]}) はありません`],
];

const SUPPORTED = ['en', 'ja'];

// ?lang=ja|en, else the first of navigator.languages that is Japanese or English, else English.
export function pickLang(search, languages) {
  const asked = new URLSearchParams(search).get('lang');
  if (SUPPORTED.includes(asked)) return asked;
  for (const l of languages || []) {
    const primary = String(l).toLowerCase().split('-')[0];
    if (SUPPORTED.includes(primary)) return primary;
  }
  return 'en';
}

export let lang = typeof location === 'undefined' ? 'en' // imported by Node (page.test.mjs)
  : pickLang(location.search, navigator.languages);

export function t(id, args = {}, l = lang) {
  const v = STRINGS[l][id];
  if (v === undefined) throw new Error(`no text ${id}`);
  return typeof v === 'function' ? v(args) : v;
}

// A message from the wasm side (or the browser) in the page's language.
export function wasmMessage(msg) {
  msg = String(msg);
  if (lang === 'en') return msg;
  for (const [re, ja] of WASM_MESSAGES) {
    const m = msg.match(re);
    if (m) return ja(m);
  }
  return `（英語のメッセージ）${msg}`;
}

// Elements whose content app.js computed: their renderers run again when the language changes.
const rendered = new Map();
const listeners = [];

// Sets el's text (or, with html, its markup) to render() now and after every language change.
export function show(el, render, html = false) {
  rendered.set(el, { render, html });
  const s = render();
  if (html) el.innerHTML = s; else el.textContent = s;
}
export function onLangChange(fn) { listeners.push(fn); }

export function applyStatic(root = document) {
  document.documentElement.lang = lang;
  document.title = t('doc.title');
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.innerHTML = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-attr]').forEach((el) => {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, id] = pair.split(':').map((s) => s.trim());
      if (attr) el.setAttribute(attr, t(id));
    }
  });
  root.querySelectorAll('[data-lang]').forEach((a) => {
    const u = new URL(location.href);
    u.searchParams.set('lang', a.dataset.lang);
    a.href = u.search;
    if (a.dataset.lang === lang) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current');
  });
}

// Switches the page's language in place, and keeps the choice in the address (?lang=).
export function setLang(l) {
  if (!SUPPORTED.includes(l)) return;
  lang = l;
  const u = new URL(location.href);
  u.searchParams.set('lang', l);
  history.replaceState(history.state, '', u.pathname + u.search + u.hash);
  applyStatic();
  for (const [el, { render, html }] of rendered) {
    const s = render();
    if (html) el.innerHTML = s; else el.textContent = s;
  }
  for (const fn of listeners) fn();
}
